//! `recording-backend healthcheck`: the container's health probe. The final
//! image has no shell, curl or wget (and a `/dev/tcp` probe needs bash), so
//! the binary probes itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The probe's whole budget: connecting, asking and reading the answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Why the backend is not healthy, for the probe's one line of output.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("no answer from {0} within {TIMEOUT:?}")]
    Timeout(SocketAddr),
    #[error("cannot reach {0}: {1}")]
    Unreachable(SocketAddr, String),
    #[error("{0}/healthz answered HTTP {1}")]
    Status(SocketAddr, u16),
    #[error("{0}/healthz did not answer {{\"ok\": true}}")]
    NotOk(SocketAddr),
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

/// Healthy when `GET /healthz` answers 200 with `{"ok": true}` within [`TIMEOUT`].
pub async fn probe(listen: SocketAddr) -> Result<(), Unhealthy> {
    let addr = target(listen);
    let work = async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| Unhealthy::Unreachable(addr, e.to_string()))?;
        let resp = client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .map_err(|e| Unhealthy::Unreachable(addr, e.without_url().to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Unhealthy::Status(addr, status.as_u16()));
        }
        let body: serde_json::Value = resp.json().await.map_err(|_| Unhealthy::NotOk(addr))?;
        if body.get("ok") == Some(&serde_json::Value::Bool(true)) {
            Ok(())
        } else {
            Err(Unhealthy::NotOk(addr))
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
