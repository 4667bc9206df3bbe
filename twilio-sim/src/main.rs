//! `twilio-sim --listen 127.0.0.1:8788`: the simulator as a process, for the
//! demo, the replay runner and the contract test.

use std::net::SocketAddr;

use clap::Parser;
use shutdown_signal::shutdown_signal;
use twilio_sim::{serve_with_shutdown, SimConfig, SimState};

/// Local stand-in for the Twilio REST endpoints the recording backend calls,
/// with a /_sim/ control API for tests and the demo.
#[derive(Parser, Debug)]
#[command(name = "twilio-sim", version, about)]
struct Args {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// Account SID accepted in paths and as Basic auth user.
    #[arg(long, default_value = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    account_sid: String,
    /// Auth token accepted with the account SID.
    #[arg(long, default_value = "sim-auth-token")]
    auth_token: String,
    /// API key SID also accepted as Basic auth user.
    #[arg(long, default_value = "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    api_key: String,
    /// Secret accepted with the API key.
    #[arg(long, default_value = "sim-api-secret")]
    api_secret: String,
    /// TaskRouter workspace SID accepted in paths.
    #[arg(long, default_value = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    workspace_sid: String,
    /// Keep at most this many entries in GET /_sim/log (oldest dropped).
    #[arg(long, default_value_t = 100_000)]
    log_limit: usize,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = SimConfig {
        account_sid: args.account_sid,
        auth_token: args.auth_token,
        api_key: args.api_key,
        api_secret: args.api_secret,
        workspace_sid: args.workspace_sid,
        log_limit: args.log_limit,
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("twilio-sim: cannot listen on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    // Print the bound address, not the requested one, so `--listen :0` works.
    let addr = listener.local_addr().unwrap_or(args.listen);
    // Listening for SIGTERM from here: a stop right after the line below is clean.
    let shutdown = shutdown_signal();
    println!("twilio-sim listening on http://{addr}");
    if let Err(e) = serve_with_shutdown(listener, SimState::new(config), shutdown).await {
        eprintln!("twilio-sim: server error: {e}");
        std::process::exit(1);
    }
    tracing::info!("twilio-sim stopped");
}
