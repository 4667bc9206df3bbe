//! The `recording-backend` binary itself: refusing to start without
//! credentials, `--help`, the listening line, graceful shutdown on SIGTERM.

mod common;

use common::process::{bare, start, stop};
use std::io::BufRead;
use std::time::Duration;

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

/// Flex runs in US1 only: a region it does not run in stops the start
/// (exit status 2), saying which variable and why.
#[test]
fn refuses_a_region_flex_does_not_run_in() {
    for region in ["ie1", "au1"] {
        let out = bare()
            .env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
            .env("TWILIO_AUTH_TOKEN", "x")
            .env(
                "TWILIO_FLEX_WORKSPACE_SID",
                "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            )
            .env("TWILIO_REGION", region)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{region}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("TWILIO_REGION={region}")) && err.contains("US1 region only"),
            "{err}"
        );
    }
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
    let (child, addr, _out) = start(&[]);
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
    let stderr = stop(child);
    assert!(
        !stderr.contains("secret-auth-token"),
        "secret in log: {stderr}"
    );
}

fn healthcheck(addr: &str) -> std::process::Output {
    bare()
        .args(["healthcheck", "--listen", addr])
        .output()
        .unwrap()
}

#[test]
fn healthcheck_exits_0_when_healthy_and_1_otherwise() {
    let (child, addr, _out) = start(&[]);
    let ok = healthcheck(&addr);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    // The container probes a wildcard listen address on loopback.
    let port = addr.rsplit(':').next().unwrap();
    let ok = healthcheck(&format!("0.0.0.0:{port}"));
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    stop(child);

    // Nothing listening: unhealthy, and it says why.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let down = healthcheck(&addr);
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("unhealthy"));

    // Something that accepts but never answers: unhealthy within the 2 s budget.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let started = std::time::Instant::now();
    let hung = healthcheck(&addr);
    assert_eq!(hung.status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        String::from_utf8_lossy(&hung.stderr).contains("within"),
        "{hung:?}"
    );

    // Something else answering: not our health.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = other.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = other.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = std::io::Read::read(&mut s, &mut buf);
        let _ = std::io::Write::write_all(
            &mut s,
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\nconnection: close\r\n\r\n{\"ok\":false}",
        );
    });
    let wrong = healthcheck(&addr);
    assert_eq!(wrong.status.code(), Some(1), "{wrong:?}");
    server.join().unwrap();
}

#[test]
fn json_logs_are_one_object_per_line_and_each_failure_is_logged_once() {
    let (child, addr, mut out) =
        start(&[("LOG_FORMAT", "json"), ("METRICS_LISTEN", "127.0.0.1:0")]);
    // stdout too: the listening lines are JSON objects like the others.
    let mut metrics_line = String::new();
    out.read_line(&mut metrics_line).unwrap();
    let metrics: serde_json::Value = serde_json::from_str(&metrics_line).unwrap();
    assert_eq!(metrics["level"], "INFO", "{metrics}");
    assert!(metrics["timestamp"].is_string(), "{metrics}");
    assert!(
        metrics["url"].as_str().unwrap().ends_with("/metrics"),
        "{metrics}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Twilio is not there: the token check fails, a 503.
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "http://{addr}/features/dual-channel-recording/flex/create-recording"
            ))
            .header("x-request-id", "req-json-1")
            .form(&[
                ("callSid", "CA000000000000000000000000000000c1"),
                ("Token", "a-flex-token"),
            ])
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 503);
    let stderr = stop(child);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON object ({e}): {l:?}"))
        })
        .collect();
    assert!(lines.len() >= 3, "{stderr}");
    for l in &lines {
        assert!(l["timestamp"].is_string(), "{l}");
        assert!(l["level"].is_string(), "{l}");
        assert!(l["message"].is_string(), "{l}");
    }
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "req-json-1")
        .collect();
    assert!(!of_request.is_empty(), "{stderr}");
    // One line for the failure, with its cause; no second line for it.
    let failed: Vec<&&serde_json::Value> = of_request
        .iter()
        .filter(|l| l["level"] == "WARN" || l["level"] == "ERROR")
        .collect();
    assert_eq!(failed.len(), 1, "{stderr}");
    assert_eq!(failed[0]["message"], "request failed");
    assert_eq!(failed[0]["status"], 503);
    assert!(
        failed[0]["span"]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("token check")),
        "{}",
        failed[0]
    );
    assert!(!stderr.contains("a-flex-token"), "token in log: {stderr}");
    assert!(!stderr.contains("secret-auth-token"));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    for l in rest.lines() {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("stdout line not JSON ({e}): {l:?}"));
    }
}

#[test]
fn text_logs_have_no_colour_when_not_a_terminal() {
    let (child, addr, _out) = start(&[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::get(format!("http://{addr}/no-such-endpoint"))
            .await
            .unwrap()
    });
    let stderr = stop(child);
    assert!(stderr.contains("request refused"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "ANSI escape in {stderr:?}");
}

#[test]
fn bad_log_format_and_metrics_listen_refuse_to_start() {
    let mut c = bare();
    c.env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "x")
        .env(
            "TWILIO_FLEX_WORKSPACE_SID",
            "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .env("LOG_FORMAT", "xml");
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOG_FORMAT"));
    let out = bare()
        .env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "x")
        .env(
            "TWILIO_FLEX_WORKSPACE_SID",
            "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .env("METRICS_LISTEN", "everywhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("METRICS_LISTEN"));
}

#[test]
fn metrics_listen_serves_metrics_on_its_own_address() {
    let (child, addr, mut out) = start(&[("METRICS_LISTEN", "127.0.0.1:0")]);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let metrics_url = common::process::url_of(&line, "metrics on");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (public, text) = rt.block_on(async {
        let public = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .status();
        // The cache sizes are set by a task the binary starts with; give it
        // a moment on a busy machine.
        let mut text = String::new();
        for _ in 0..50 {
            text = reqwest::get(&metrics_url)
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains("recording_backend_cache_entries{") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (public, text)
    });
    assert_eq!(public.as_u16(), 404);
    assert!(
        text.contains("# TYPE recording_backend_recordings_started_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE recording_backend_cache_entries gauge"),
        "{text}"
    );
    for cache in ["tokens", "recordings", "grants"] {
        assert!(
            text.contains(&format!(
                "recording_backend_cache_entries{{cache=\"{cache}\"}} 0"
            )),
            "{cache}: {text}"
        );
    }
    stop(child);
}

#[test]
fn policy_off_is_logged_at_start() {
    // `start` fails unless the first line says where it listens.
    let (child, _addr, _out) = start(&[("POLICY", "off"), ("RUST_LOG", "info")]);
    let err = stop(child);
    assert!(
        err.contains("POLICY=off: the Flex configuration's recording rules are not checked here"),
        "{err}"
    );
    assert!(!err.contains("secret-auth-token"), "{err}");
}

#[test]
fn audit_subcommand_prints_a_table_or_json_and_the_sink_says_why_it_is_off() {
    let (child, addr, _out) = start(&[("AUDIT_TOKEN", "audit-cli-secret"), ("RUST_LOG", "info")]);
    let url = format!("http://{addr}");
    let run = |extra: &[&str], token: Option<&str>| {
        let mut c = bare();
        c.args([
            "audit",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2099-01-01T00:00:00Z",
            "--url",
            &url,
        ])
        .args(extra);
        if let Some(t) = token {
            c.env("AUDIT_TOKEN", t);
        }
        c.output().unwrap()
    };
    let table = run(&[], Some("audit-cli-secret"));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&table.stderr)
    );
    for needle in [
        "store: memory",
        "NOT RECORDED (0)",
        "EXCLUDED BY A RULE (0)",
        "RECORDED (0)",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let json = run(&["--json"], Some("audit-cli-secret"));
    assert!(json.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(answer["store"], "memory");
    assert_eq!(answer["unrecorded"], serde_json::json!([]));
    let wrong = run(&[], Some("not-it"));
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("HTTP 401"));
    let none = run(&[], None);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("AUDIT_TOKEN is not set"));
    let err = stop(child);
    assert!(err.contains("PUBLIC_URL is not set"), "{err}");
    assert!(!err.contains("audit-cli-secret"), "{err}");
}
