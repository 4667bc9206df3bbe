//! When the project's servers (`recording-backend`, `twilio-sim`) stop: on
//! Ctrl-C or SIGTERM (what systemd and container runtimes send). Each server
//! then stops accepting and lets open requests finish.

/// Resolves on the first Ctrl-C or SIGTERM. A signal that cannot be listened
/// for is left out (the other still stops the server), never a crash.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
