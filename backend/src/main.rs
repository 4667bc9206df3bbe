//! `recording-backend` binary: configuration, logging, listening, shutdown.
//! Everything else is in the library (`recording_backend::app`).

use clap::Parser;
use recording_backend::config::{Cli, Config};
use recording_backend::{app, AppState};
use shutdown_signal::shutdown_signal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match Config::from_env(&cli, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("recording-backend: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let listen = config.listen;
    tracing::info!(
        api = %config.hosts.api,
        taskrouter = %config.hosts.taskrouter,
        iam = %config.hosts.iam,
        authorization = ?config.authorization,
        origins = ?config.allowed_origins,
        demo = config.demo,
        "configuration loaded"
    );
    let state = match AppState::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("recording-backend: cannot start the HTTP client: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("recording-backend: cannot listen on {listen}: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = listener.local_addr().unwrap_or(listen);
    println!("recording-backend listening on http://{addr}");
    if let Err(e) = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("recording-backend: server error: {e}");
        return ExitCode::from(1);
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
