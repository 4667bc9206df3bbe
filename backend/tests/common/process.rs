//! The `recording-backend` binary as a process: started with a clean
//! environment, its listening line read (text or JSON), stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_recording-backend");

/// The binary with none of its variables inherited from the test's environment.
pub fn bare() -> Command {
    let mut c = Command::new(BIN);
    for v in [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "TWILIO_FLEX_WORKSPACE_SID",
        "ALLOWED_ORIGINS",
        "AUTHORIZATION",
        "POLICY",
        "RECORDING_STATUS_CALLBACK",
        "TWILIO_REGION",
        "TWILIO_EDGE",
        "REDIS_URL",
        "PUBLIC_URL",
        "AUDIT_TOKEN",
        "SAFETY_NET_SECONDS",
    ] {
        c.env_remove(v);
    }
    c
}

/// The URL a listening line names: `recording-backend listening on URL`
/// in text, or a JSON object whose `message` says so and whose `url` is it
/// (`LOG_FORMAT=json`). `what`: `listening on` or `metrics on`.
pub fn url_of(line: &str, what: &str) -> String {
    let line = line.trim();
    let prefix = format!("recording-backend {what} ");
    if line.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        let message = v["message"].as_str().unwrap_or_default();
        let url = v["url"].as_str().unwrap_or_default();
        assert_eq!(message, format!("{prefix}{url}"), "{line}");
        return url.to_string();
    }
    line.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string()
}

/// Starts the binary on a free port against a Twilio that is not there,
/// with `env` added; returns it and the address from its listening line.
pub fn start(env: &[(&str, &str)]) -> (Child, String, BufReader<ChildStdout>) {
    start_against("http://127.0.0.1:9", env)
}

/// As [`start`], with every Twilio request sent to `twilio`.
pub fn start_against(
    twilio: &str,
    env: &[(&str, &str)],
) -> (Child, String, BufReader<ChildStdout>) {
    let mut c = bare();
    c.args(["--listen", "127.0.0.1:0", "--twilio-base-url", twilio])
        .env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "secret-auth-token")
        .env(
            "TWILIO_FLEX_WORKSPACE_SID",
            "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .env_remove("LOG_FORMAT")
        .env_remove("METRICS_LISTEN")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = url_of(&line, "listening on");
    let addr = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http URL: {url}"))
        .to_string();
    (child, addr, out)
}

/// SIGTERM, wait for a clean exit, and everything it wrote to stderr.
pub fn stop(mut child: Child) -> String {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut waited = Duration::ZERO;
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(waited < Duration::from_secs(10), "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    };
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    stderr
}
