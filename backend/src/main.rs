//! `recording-backend` binary: configuration, logging, listening, shutdown.
//! Everything else is in the library (`recording_backend::app`).

use clap::Parser;
use recording_backend::config::{Cli, Command, Config, EventStreamsCommand, PolicyMode};
use recording_backend::healthcheck::{self, Probe};
use recording_backend::logging::{self, LogFormat};
use recording_backend::twilio::{RetryPolicy, TwilioClient};
use recording_backend::{app, audit_cli, event_streams_setup, metrics_app, AppState};
use shutdown_signal::shutdown_signal;
use std::process::ExitCode;
use tracing::Level;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.clone() {
        Some(Command::Healthcheck { listen, ready }) => {
            let what = if ready { Probe::Ready } else { Probe::Live };
            return match healthcheck::probe(listen, what).await {
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
    // Why it stops, in the log's format, whatever RUST_LOG filters.
    let fatal = |message: String, code: u8| {
        eprintln!("{}", logging::line(format, Level::ERROR, &message, &[]));
        ExitCode::from(code)
    };

    let config = match Config::from_env(&cli, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => return fatal(format!("recording-backend: cannot start: {e}"), 2),
    };
    let listen = config.listen;
    let metrics_listen = config.metrics_listen;
    tracing::info!(
        api = %config.hosts.api,
        taskrouter = %config.hosts.taskrouter,
        iam = %config.hosts.iam,
        authorization = config.authorization.as_str(),
        policy = config.policy.as_str(),
        origins = %config.allowed_origins.join(","),
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
            return fatal(
                format!("recording-backend: cannot start the HTTP client: {e}"),
                1,
            )
        }
    };
    if state.0.config.policy == PolicyMode::Off {
        tracing::warn!("POLICY=off: the Flex configuration's recording rules are not checked here; the browser's decision is trusted");
    }
    // Whether Twilio accepts the credentials, now and periodically; the
    // first check also reads the policy before the first request needs it.
    state.spawn_readiness_checks();
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
            return fatal(
                format!("recording-backend: cannot listen on {listen}: {e}"),
                1,
            )
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
                return fatal(
                    format!("recording-backend: cannot listen on METRICS_LISTEN {m}: {e}"),
                    1,
                )
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
    state.spawn_cache_gauges().await;
    let app = app(state);
    // Listening for SIGTERM from here: a stop right after the line below is clean.
    let shutdown = shutdown_signal();
    // On stdout, where scripts wait for it; in JSON too with LOG_FORMAT=json.
    let url = format!("http://{addr}");
    let listening = format!("recording-backend listening on {url}");
    println!(
        "{}",
        logging::line(format, Level::INFO, &listening, &[("url", &url)])
    );
    if let Some(m) = metrics_addr {
        let url = format!("http://{m}/metrics");
        let line = format!("recording-backend metrics on {url}");
        println!(
            "{}",
            logging::line(format, Level::INFO, &line, &[("url", &url)])
        );
    }
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        return fatal(format!("recording-backend: server error: {e}"), 1);
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
