// Local Flex for `twilio flex:plugins:start` (http://localhost:3000).
// Copy to appConfig.js (not committed) before the first start:
//   cp public/appConfig.example.js public/appConfig.js
// The Flex UI served locally loads this file; `pluginService` makes it load
// this plugin from the local dev server, plus, with
// `twilio flex:plugins:start --include-remote`, the plugins released on the
// account. Its `custom_data` overrides the account's hosted Flex
// configuration in this local Flex only (as the flex-project-template's
// local development does): no second account is needed, and the agents of
// the account keep the hosted settings. Here the plugin calls a backend on
// this machine (`cargo run -p recording-backend`, listening on 127.0.0.1:8787),
// which must list http://localhost:3000 in ALLOWED_ORIGINS. The backend's own
// policy still reads the hosted configuration from Twilio (POLICY=off for a
// local experiment that the hosted settings would refuse).
// eslint-disable-next-line no-unused-vars
var appConfig = {
  pluginService: {
    enabled: true,
    url: '/plugins',
  },
  logLevel: 'info',
  custom_data: {
    plugin_dual_channel_recording: {
      enabled: true,
      method: 'call-leg',
      channel: 'customer',
      exclude_queues: [],
      exclude_attributes: [],
      backend_url: 'http://localhost:8787',
      pause_recording: {
        enabled: true,
        include_silence: false,
        indicator_banner: true,
        indicator_permanent: true,
      },
    },
  },
};
