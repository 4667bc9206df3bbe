//! `recording-backend audit --from --to [--url] [--json]`: asks a running
//! backend's `GET /audit` with `AUDIT_TOKEN` and prints its answer, as a
//! table by default.

use serde_json::Value;
use std::fmt::Write as _;
use std::time::Duration;

/// The report as an operator reads it.
pub fn table(report: &Value) -> String {
    let mut out = String::new();
    let list = |k: &str| report[k].as_array().cloned().unwrap_or_default();
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or("-").to_string();
    let _ = writeln!(
        out,
        "Audit from {} to {} (store: {})",
        text(report, "from"),
        text(report, "to"),
        text(report, "store")
    );
    if report["store"] == "memory" {
        let _ = writeln!(out, "Note: kept in this backend's memory only (no REDIS_URL): a restart forgets, other replicas are not seen.");
    }
    let unrecorded = list("unrecorded");
    let _ = writeln!(out, "\nNOT RECORDED ({}):", unrecorded.len());
    let _ = writeln!(
        out,
        "  {:<34}  {:<24}  {:<34}  RECORDING",
        "TASK", "REASON", "CALL"
    );
    for u in &unrecorded {
        let _ = writeln!(
            out,
            "  {:<34}  {:<24}  {:<34}  {}",
            text(u, "taskSid"),
            text(u, "reason"),
            text(u, "callSid"),
            text(u, "recordingSid")
        );
    }
    let excluded = list("excluded");
    let _ = writeln!(out, "\nEXCLUDED BY A RULE ({}):", excluded.len());
    for e in &excluded {
        let _ = writeln!(out, "  {:<34}  {}", text(e, "taskSid"), text(e, "rule"));
    }
    let recorded = list("recorded");
    let _ = writeln!(out, "\nRECORDED ({}):", recorded.len());
    for r in &recorded {
        let _ = writeln!(
            out,
            "  {:<34}  {:<34}  by {}",
            text(r, "taskSid"),
            text(r, "recordingSid"),
            text(r, "by")
        );
    }
    out
}

/// Asks the backend at `url`; the text to print, or why it failed.
pub async fn run(
    url: &str,
    token: &str,
    from: &str,
    to: &str,
    json: bool,
) -> Result<String, String> {
    if token.is_empty() {
        return Err("AUDIT_TOKEN is not set; set it to the backend's AUDIT_TOKEN".into());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .get(format!("{}/audit", url.trim_end_matches('/')))
        .query(&[("from", from), ("to", to)])
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("could not reach the backend at {url}: {}", e.without_url()))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("unreadable answer (HTTP {status}): {}", e.without_url()))?;
    if !status.is_success() {
        let msg = body["message"].as_str().unwrap_or("no message");
        return Err(format!(
            "the backend answered HTTP {}: {msg}",
            status.as_u16()
        ));
    }
    Ok(if json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        )
    } else {
        table(&body)
    })
}
