//! `recording-backend` binary: configuration, logging, listening, shutdown.
//! Everything else is in the library (`recording_backend::app`).

use clap::Parser;
use recording_backend::config::{Cli, Command, Config, EventStreamsCommand, PolicyMode};
use recording_backend::logging::{self, LogFormat};
use recording_backend::twilio::{RetryPolicy, TwilioClient};
use recording_backend::{app, audit_cli, event_streams_setup, healthcheck, metrics_app, AppState};
use shutdown_signal::shutdown_signal;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.clone() {
        Some(Command::Healthcheck { listen }) => {
            return match healthcheck::probe(listen).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("recording-backend healthcheck: unhealthy: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Some(Command::Audit {
            from,
            to,
            url,
            json,
        }) => {
            let token = std::env::var("AUDIT_TOKEN").unwrap_or_default();
            return match audit_cli::run(&url, &token, &from, &to, json).await {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("recording-backend audit: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Some(Command::EventStreams(EventStreamsCommand::Setup { url })) => {
            let config = match Config::from_env(&cli, |k| std::env::var(k).ok()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("recording-backend event-streams setup: {e}");
                    return ExitCode::from(2);
                }
            };
            let twilio = match TwilioClient::new(&config, RetryPolicy::default()) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("recording-backend: cannot start the HTTP client: {e}");
                    return ExitCode::from(1);
                }
            };
            return match event_streams_setup::run(&twilio, &url).await {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("recording-backend event-streams setup: {e}");
                    ExitCode::from(1)
                }
            };
        }
        None => {}
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
        policy = ?config.policy,
        origins = ?config.allowed_origins,
        demo = config.demo,
        metrics = %metrics_listen.map_or_else(|| "on --listen".to_string(), |a| a.to_string()),
        "configuration loaded"
    );
    match (&config.webhooks, config.webhooks_off) {
        (Some(w), _) => tracing::info!(
            sink = %format!("{}{}", w.public_url, recording_backend::config::EVENT_STREAMS_PATH),
            status_callbacks = %format!("{}{}", w.public_url, recording_backend::config::RECORDING_STATUS_PATH),
            safety_net_seconds = config.safety_net_delay.as_secs(),
            "Twilio webhooks on: the safety net records calls the plugin did not"
        ),
        (None, Some(why)) => tracing::warn!("{why}"),
        (None, None) => {}
    }
    if config.audit_token.is_none() {
        tracing::info!("AUDIT_TOKEN is not set: GET /audit answers 404");
    }
    let state = match AppState::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("recording-backend: cannot start the HTTP client: {e}");
            return ExitCode::from(1);
        }
    };
    match state.0.config.policy {
        PolicyMode::Off => tracing::warn!("POLICY=off: the Flex configuration's recording rules are not checked here; the browser's decision is trusted"),
        PolicyMode::On => {
            // Read the policy before the first request needs it; a failure
            // here is logged and retried by the first request.
            let warm = state.clone();
            tokio::spawn(async move {
                let _ = warm.0.policy.get(&warm.0.twilio).await;
            });
        }
    }
    // Pauses other replicas (or this one before a restart) watch through the
    // claim store: their timers go on here too.
    tokio::spawn(state.0.pause_watch.clone().rearm());
    if state.0.config.webhooks.is_some() {
        // Checks a stopped backend (this one, or another replica) was waiting for.
        tokio::spawn(state.0.safety_net.clone().rearm());
    }
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
    state.spawn_cache_gauges();
    // Listening for SIGTERM from here: a stop right after the line below is clean.
    let shutdown = shutdown_signal();
    println!("recording-backend listening on http://{addr}");
    if let Some(m) = metrics_addr {
        println!("recording-backend metrics on http://{m}/metrics");
    }
    if let Err(e) = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("recording-backend: server error: {e}");
        return ExitCode::from(1);
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
