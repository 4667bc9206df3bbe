//! Log output: `LOG_FORMAT=text` (default) or `json`, filtered by `RUST_LOG`.
//!
//! JSON is one object per line with `timestamp`, `level`, `message`, the
//! event's fields at the top level, and `span` holding the request's fields
//! (`request_id`, `method`, `path`, and `cause` when a failure has one), so a
//! log shipper needs no parsing rules. Colour only when stderr is a terminal:
//! escape codes in a journal or a log file are noise.
//!
//! The few lines the process writes itself, outside the subscriber (where
//! it listens, on stdout, which scripts wait for; why it cannot start,
//! whatever `RUST_LOG` says), follow the same format: [`line`].

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// `LOG_FORMAT`'s value; unset or empty is text.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
            Some(v) => Err(format!("LOG_FORMAT is not valid: {v:?} (text or json)")),
        }
    }
}

/// Installs the process's log subscriber, writing to stderr.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => {
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .init();
            // The default hook writes a panic as plain text; a log shipper
            // reading JSON would drop it or choke on it. Here it is a line
            // like the others, with the request's span if there is one.
            std::panic::set_hook(Box::new(|info| {
                tracing::error!(panic = %info, "the backend panicked");
            }));
        }
    }
}

/// A line written outside the subscriber, in `format`: in text the message
/// alone (as scripts have always read it), in JSON an object shaped like
/// the subscriber's (`timestamp`, `level`, `message`, `target`) with
/// `fields` at the top level.
pub fn line(
    format: LogFormat,
    level: tracing::Level,
    message: &str,
    fields: &[(&str, &str)],
) -> String {
    match format {
        LogFormat::Text => message.to_string(),
        LogFormat::Json => {
            let mut o = serde_json::Map::new();
            let now = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            o.insert("timestamp".into(), now.into());
            o.insert("level".into(), level.as_str().into());
            o.insert("message".into(), message.into());
            for (k, v) in fields {
                o.insert((*k).into(), (*v).into());
            }
            o.insert("target".into(), "recording_backend".into());
            serde_json::Value::Object(o).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let cases = [
            (None, Ok(LogFormat::Text)),
            (Some(""), Ok(LogFormat::Text)),
            (Some("text"), Ok(LogFormat::Text)),
            (Some("JSON"), Ok(LogFormat::Json)),
            (Some(" json "), Ok(LogFormat::Json)),
        ];
        for (v, want) in cases {
            assert_eq!(LogFormat::parse(v), want, "{v:?}");
        }
        assert!(LogFormat::parse(Some("logfmt"))
            .unwrap_err()
            .contains("LOG_FORMAT"));
    }

    #[test]
    fn own_lines() {
        let msg = "recording-backend listening on http://127.0.0.1:8787";
        let url = [("url", "http://127.0.0.1:8787")];
        assert_eq!(line(LogFormat::Text, tracing::Level::INFO, msg, &url), msg);
        let j: serde_json::Value =
            serde_json::from_str(&line(LogFormat::Json, tracing::Level::INFO, msg, &url)).unwrap();
        assert_eq!(j["message"], msg);
        assert_eq!(j["level"], "INFO");
        assert_eq!(j["url"], "http://127.0.0.1:8787");
        let ts = j["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok(),
            "{ts}"
        );
        let e: serde_json::Value = serde_json::from_str(&line(
            LogFormat::Json,
            tracing::Level::ERROR,
            "cannot start: \"quoted\"\nnext",
            &[],
        ))
        .unwrap();
        assert_eq!(e["level"], "ERROR");
        assert_eq!(e["message"], "cannot start: \"quoted\"\nnext");
    }
}
