//! `recording-backend healthcheck`: the container's health probe. The final
//! image has no shell, curl or wget (and a `/dev/tcp` probe needs bash), so
//! the binary probes itself: liveness (`/healthz`: the process serves) or,
//! with `--ready`, readiness (`/readyz`: Twilio accepts its credentials).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The probe's whole budget: connecting, asking and reading the answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// What is probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// `GET /healthz` answers `{"ok": true}`.
    Live,
    /// `GET /readyz` answers `{"ready": true}`.
    Ready,
}

impl Probe {
    fn path(self) -> &'static str {
        match self {
            Probe::Live => "/healthz",
            Probe::Ready => "/readyz",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Probe::Live => "ok",
            Probe::Ready => "ready",
        }
    }
}

/// Why the backend is not healthy, for the probe's one line of output.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("no answer from {0} within {secs} s", secs = TIMEOUT.as_secs())]
    Timeout(SocketAddr),
    #[error("cannot reach {0}: {1}")]
    Unreachable(SocketAddr, String),
    #[error("{0}{1} answered HTTP {2}")]
    Status(SocketAddr, &'static str, u16),
    #[error("{0}{1} did not answer {{\"{2}\": true}}")]
    NotOk(SocketAddr, &'static str, &'static str),
    /// `/readyz` says why the backend is not ready.
    #[error("not ready: {0}")]
    NotReady(String),
}

/// A wildcard listen address (what a container listens on) is probed on
/// the loopback address of its family.
pub fn target(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    SocketAddr::new(ip, listen.port())
}

/// Healthy when the probe's path answers 200 with `{"<key>": true}`
/// within [`TIMEOUT`]; a not-ready answer's `reason` is passed on.
pub async fn probe(listen: SocketAddr, what: Probe) -> Result<(), Unhealthy> {
    let addr = target(listen);
    let path = what.path();
    let work = async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| Unhealthy::Unreachable(addr, e.to_string()))?;
        let resp = client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .map_err(|e| Unhealthy::Unreachable(addr, e.without_url().to_string()))?;
        let status = resp.status();
        let body: Option<serde_json::Value> = resp.json().await.ok();
        let reason = body
            .as_ref()
            .and_then(|b| b.get("reason"))
            .and_then(serde_json::Value::as_str);
        match (status.is_success(), reason) {
            (false, Some(r)) if what == Probe::Ready => Err(Unhealthy::NotReady(r.to_string())),
            (false, _) => Err(Unhealthy::Status(addr, path, status.as_u16())),
            (true, _)
                if body.as_ref().and_then(|b| b.get(what.key()))
                    == Some(&serde_json::Value::Bool(true)) =>
            {
                Ok(())
            }
            (true, _) => Err(Unhealthy::NotOk(addr, path, what.key())),
        }
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(Unhealthy::Timeout(addr)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_probed_on_loopback() {
        let cases = [
            ("0.0.0.0:8787", "127.0.0.1:8787"),
            ("[::]:8787", "[::1]:8787"),
            ("10.1.2.3:80", "10.1.2.3:80"),
            ("127.0.0.1:9", "127.0.0.1:9"),
        ];
        for (listen, want) in cases {
            assert_eq!(
                target(listen.parse().unwrap()).to_string(),
                want,
                "{listen}"
            );
        }
    }
}
