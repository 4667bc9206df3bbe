// Local Flex for `twilio flex:plugins:start` (http://localhost:3000).
// Copy to appConfig.js (not committed) before the first start:
//   cp public/appConfig.example.js public/appConfig.js
// The Flex UI served locally loads this file; `pluginService` makes it load
// this plugin from the local dev server, plus, with
// `twilio flex:plugins:start --include-remote`, the plugins released on the
// account. The plugin's own settings (custom_data) still come from the
// account's Flex configuration, and its calls go to the backend named there:
// that backend must list http://localhost:3000 in ALLOWED_ORIGINS.
// eslint-disable-next-line no-unused-vars
var appConfig = {
  pluginService: {
    enabled: true,
    url: '/plugins',
  },
  logLevel: 'info',
};
