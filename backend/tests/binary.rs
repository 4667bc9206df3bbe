//! The `recording-backend` binary itself: refusing to start without
//! credentials, `--help`, the listening line, graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_recording-backend");

fn bare() -> Command {
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
    ] {
        c.env_remove(v);
    }
    c
}

#[test]
fn refuses_to_start_naming_the_missing_variable() {
    let out = bare().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TWILIO_ACCOUNT_SID"), "{err}");

    let out = bare()
        .env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TWILIO_FLEX_WORKSPACE_SID"), "{err}");
}

#[test]
fn help_lists_flags_and_environment() {
    let out = bare().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--listen",
        "--twilio-base-url",
        "--iam-base-url",
        "--demo",
        "TWILIO_AUTH_TOKEN",
        "AUTHORIZATION",
        "POLICY",
        "TWILIO_REGION",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn prints_listening_line_serves_and_stops_on_sigterm() {
    let mut child = bare()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--twilio-base-url",
            "http://127.0.0.1:9",
        ])
        .env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "secret-auth-token")
        .env(
            "TWILIO_FLEX_WORKSPACE_SID",
            "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("recording-backend listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(body["ok"], true);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
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
    assert!(
        !stderr.contains("secret-auth-token"),
        "secret in log: {stderr}"
    );
}

#[test]
fn policy_off_is_logged_at_start() {
    let mut child = bare()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--twilio-base-url",
            "http://127.0.0.1:9",
        ])
        .env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "secret-auth-token")
        .env(
            "TWILIO_FLEX_WORKSPACE_SID",
            "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .env("POLICY", "off")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("recording-backend listening on"),
        "{line:?}"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("POLICY=off: the Flex configuration's recording rules are not checked here"),
        "{err}"
    );
    assert!(!err.contains("secret-auth-token"), "{err}");
}
