//! When the project's servers (`recording-backend`, `twilio-sim`) stop: on
//! Ctrl-C or SIGTERM (what systemd and container runtimes send). Each server
//! then stops accepting and lets open requests finish.

use std::future::Future;

/// Listens for the first Ctrl-C or SIGTERM from the moment it is called
/// (inside the runtime), and resolves on it. Call it before announcing that
/// the server listens: a SIGTERM sent right after that line must stop the
/// server cleanly, not kill it as a process with no handler would be. A
/// signal that cannot be listened for is left out (the other still stops
/// the server), never a crash.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = term => {},
                _ = int => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
