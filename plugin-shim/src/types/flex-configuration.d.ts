// What the published @twilio/flex-ui types leave out: Flex merges the
// configuration's `ui_attributes` into `manager.configuration`, so the
// flex-project-template's `custom_data` block (docs/flex-developers.md) is
// there at run time. The shim passes it to the core as it is; the core
// validates it (an invalid block: nothing recorded, one notification).
import '@twilio/flex-ui/src/state/AppConfig';

declare module '@twilio/flex-ui/src/state/AppConfig' {
  interface Config {
    custom_data?: {
      features?: { dual_channel_recording?: unknown; [feature: string]: unknown };
      serverless_functions_domain?: string;
      serverless_functions_protocol?: string;
      serverless_functions_port?: string | number;
      [key: string]: unknown;
    };
  }
}
