//! `recording-backend` binary: configuration, logging, listening, shutdown.
//! Everything else is in the library (`recording_backend::app`).

use clap::Parser;
use recording_backend::config::{Cli, Command, Config};
use recording_backend::logging::{self, LogFormat};
use recording_backend::{app, healthcheck, metrics_app, AppState};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Healthcheck { listen }) = cli.command {
        return match healthcheck::probe(listen).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("recording-backend healthcheck: unhealthy: {e}");
                ExitCode::from(1)
            }
        };
    }
    let format = match LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("recording-backend: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(format);

    let config = match Config::from_env(&cli, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("recording-backend: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let listen = config.listen;
    let metrics_listen = config.metrics_listen;
    tracing::info!(
        api = %config.hosts.api,
        taskrouter = %config.hosts.taskrouter,
        iam = %config.hosts.iam,
        authorization = ?config.authorization,
        origins = ?config.allowed_origins,
        demo = config.demo,
        metrics = %metrics_listen.map_or_else(|| "on --listen".to_string(), |a| a.to_string()),
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
    // Bound before the main listener reports ready, so a wrong address fails
    // the start rather than leaving metrics silently missing.
    let mut metrics_addr = None;
    if let Some(m) = metrics_listen {
        let metrics_listener = match tokio::net::TcpListener::bind(m).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("recording-backend: cannot listen on METRICS_LISTEN {m}: {e}");
                return ExitCode::from(1);
            }
        };
        metrics_addr = Some(metrics_listener.local_addr().unwrap_or(m));
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics_listener, metrics_app()).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    recording_backend::metrics::spawn_upkeep();
    println!("recording-backend listening on http://{addr}");
    if let Some(m) = metrics_addr {
        println!("recording-backend metrics on http://{m}/metrics");
    }
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

/// Ctrl-C or SIGTERM (what systemd and container runtimes send): stop
/// accepting, let open requests finish.
async fn shutdown_signal() {
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
