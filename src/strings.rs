//! The one text agents can ever see: the misconfiguration notification, in the
//! languages the template ships it in.

pub const BROKEN_NOTIFICATION_ID: &str = "PSDualChannelBroken";

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

#[cfg(test)]
mod tests {
    use super::*;

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
