//! The one text agents can ever see: the misconfiguration notification, in the
//! languages the template ships it in.

pub const BROKEN_NOTIFICATION_ID: &str = "PSDualChannelBroken";

/// The administrators' notice (Flex role `admin`) of a configuration that
/// works but loses something; agents never see it.
pub const ADMIN_NOTICE_ID: &str = "PSDualChannelAdminNotice";

/// The conference method with Flex's own Call Recording off: the plugin's
/// console, the administrators' notice and the backend's log say it.
pub const CONFERENCE_WITHOUT_CALL_RECORDING: &str = "Call recording uses method \"conference\" while Flex's own Call Recording is off (call_recording_enabled: false): the conferences are recorded, but Flex Insights cannot reach the recordings. Turn Call Recording on in the Flex configuration (Flex Console, Voice settings; call_recording_enabled: true).";

const EN: &str = "The dual channel recording feature will not work because it has not been configured correctly.";

/// The text for a Flex locale tag (`en-US`, `es-MX`, `pt-BR`, `th`, `zh-Hans`...),
/// falling back to the language, then to English.
pub fn broken_notification(locale: &str) -> &'static str {
    let lower = locale.to_ascii_lowercase().replace('_', "-");
    match lower.as_str() {
        "es-es" => "La función de grabación de dos canales no funcionará porque no ha sido configurada correctamente.",
        "es-mx" => "La función de grabación de doble canal no funcionará debido a que no ha sido configurada correctamente.",
        l if l.starts_with("es") => "La función de grabación de doble canal no funcionará debido a que no ha sido configurada correctamente.",
        l if l.starts_with("pt") => "A função de gravação em dois canais não funcionará porque não foi configurada corretamente.",
        l if l.starts_with("th") => "คุณสมบัติการบันทึกคู่ไม่ทำงานเพราะไม่ได้กำหนดค่าอย่างถูกต้อง",
        l if l.starts_with("zh") => "双通道录音功能无法正常工作，因为其未被正确配置",
        _ => EN,
    }
}

/// Shown once, to administrators only: the own block and a template feature
/// are both on (`settings::TemplateFeature`); the log says which.
pub const TEMPLATE_CONFLICT_NOTIFICATION_ID: &str = "PSDualChannelTemplateConflict";

/// The conflict notification. English in every locale: only administrators
/// see it, and the log line beside it is English too.
pub fn template_conflict_notification(_locale: &str) -> &'static str {
    "Dual channel recording: the plugin's own settings (plugin_dual_channel_recording) are in use while the flex-project-template's dual_channel_recording or pause_recording feature is on too, so calls are recorded or paused twice. Switch the template's feature off (see the browser console)."
}

/// The texts of pause and resume: the button (two states) and the banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PauseTexts {
    pub pause: &'static str,
    pub resume: &'static str,
    /// The name of the toggle keyboard shortcut (Flex's shortcut list).
    pub toggle: &'static str,
    pub paused_banner: &'static str,
}

pub const PAUSED_NOTIFICATION_ID: &str = "PSDualChannelRecordingPaused";

/// Pause and resume texts for a Flex locale tag, falling back as `broken_notification`.
pub fn pause_texts(locale: &str) -> PauseTexts {
    let lower = locale.to_ascii_lowercase().replace('_', "-");
    match lower.as_str() {
        "es-es" => PauseTexts {
            pause: "Pausar grabación",
            resume: "Reanudar grabación",
            toggle: "Pausar o reanudar grabación",
            paused_banner: "La grabación de la llamada está en pausa.",
        },
        l if l.starts_with("es") => PauseTexts {
            pause: "Pausar grabación",
            resume: "Reanudar grabación",
            toggle: "Pausar o reanudar grabación",
            paused_banner: "La grabación de la llamada está pausada.",
        },
        l if l.starts_with("pt") => PauseTexts {
            pause: "Pausar gravação",
            resume: "Retomar gravação",
            toggle: "Pausar ou retomar gravação",
            paused_banner: "A gravação da chamada está pausada.",
        },
        l if l.starts_with("th") => PauseTexts {
            pause: "หยุดบันทึกชั่วคราว",
            resume: "บันทึกต่อ",
            toggle: "หยุดหรือบันทึกต่อ",
            paused_banner: "การบันทึกการโทรหยุดชั่วคราวอยู่",
        },
        l if l.starts_with("zh") => PauseTexts {
            pause: "暂停录音",
            resume: "继续录音",
            toggle: "暂停或继续录音",
            paused_banner: "通话录音已暂停",
        },
        _ => PauseTexts {
            pause: "Pause recording",
            resume: "Resume recording",
            toggle: "Pause or resume recording",
            paused_banner: "Call recording is paused.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_texts_in_six_locales() {
        let cases = [
            ("en-US", "Pause recording"),
            ("es-ES", "Pausar grabación"),
            ("es-MX", "Pausar grabación"),
            ("pt-BR", "Pausar gravação"),
            ("th", "หยุดบันทึกชั่วคราว"),
            ("zh-Hans", "暂停录音"),
            ("de-DE", "Pause recording"),
            ("", "Pause recording"),
        ];
        for (locale, pause) in cases {
            let t = pause_texts(locale);
            assert_eq!(t.pause, pause, "{locale}");
            assert!(!t.resume.is_empty() && !t.paused_banner.is_empty());
        }
        assert_ne!(
            pause_texts("es-ES").paused_banner,
            pause_texts("es-MX").paused_banner
        );
    }

    #[test]
    fn locales() {
        assert!(broken_notification("en-US").starts_with("The dual channel"));
        assert!(broken_notification("es-ES").contains("dos canales"));
        assert!(broken_notification("es-MX").contains("doble canal"));
        assert!(broken_notification("es").contains("doble canal"));
        assert!(broken_notification("pt-BR").starts_with("A função"));
        assert!(broken_notification("th").starts_with("คุณสมบัติ"));
        assert!(broken_notification("zh-Hans").starts_with("双通道"));
        assert_eq!(broken_notification(""), EN);
        assert_eq!(broken_notification("de-DE"), EN);
    }
}
