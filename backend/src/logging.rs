//! Log output: `LOG_FORMAT=text` (default) or `json`, filtered by `RUST_LOG`.
//!
//! JSON is one object per line with `timestamp`, `level`, `message`, the
//! event's fields at the top level, and `span` holding the request's fields
//! (`request_id`, `method`, `path`, and `cause` when a failure has one), so a
//! log shipper needs no parsing rules. Colour only when stderr is a terminal:
//! escape codes in a journal or a log file are noise.

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
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
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
}
