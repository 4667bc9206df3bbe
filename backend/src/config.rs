//! Configuration: environment variables (credentials, policy) and command-line
//! flags (where to listen, where Twilio is). Read once at start; a backend that
//! cannot reach Twilio correctly must not start at all, so every problem is an
//! error naming the variable to fix.

use clap::Parser;
use dual_channel_recording::sid::{AccountSid, WorkspaceSid};
use std::net::SocketAddr;
use std::time::Duration;

pub const DEFAULT_ALLOWED_ORIGIN: &str = "https://flex.twilio.com";

/// No request is answered later than this, whatever Twilio does; work that
/// already started (a recording) finishes in the background.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// How long an authorize-ahead grant is used without checking the
/// reservation again (`domain::grant`): 15 s covers the accept-to-legs time
/// of a Flex call with room to spare.
pub const GRANT_VALID_FOR: Duration = Duration::from_secs(15);

/// How long after `max_pause_seconds` the backend steps in
/// (`domain::pause_watch`). The plugin's timer starts when its pause answer
/// lands, so its resume normally comes first; one still being retried when
/// the backend resumes asks for the state the recording already has, which
/// changes nothing.
pub const PAUSE_WATCH_GRACE: Duration = Duration::from_secs(10);

/// How long after a reservation's accept the safety net looks for the
/// recording the plugin should have started (`SAFETY_NET_SECONDS`): the
/// plugin starts one within a few seconds of the legs joining, so 30 s
/// leaves it room and still records most of the call when it failed.
pub const DEFAULT_SAFETY_NET: Duration = Duration::from_secs(30);

/// Where Twilio calls this backend (relative to `PUBLIC_URL`).
pub const EVENT_STREAMS_PATH: &str = "/twilio/event-streams";
pub const RECORDING_STATUS_PATH: &str = "/twilio/recording-status";
/// How often the backend checks with Twilio that its credentials are
/// accepted (`domain::readiness`, by reading the Flex configuration):
/// shorter than the policy's `fresh_for` (30 s), so the requests of a
/// running backend find the policy fresh and wait for no read of their own.
pub const READINESS_EVERY: Duration = Duration::from_secs(20);

/// How long a Flex configuration read is trusted, and what happens when
/// Twilio cannot be reached (`domain::policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyTiming {
    /// A read younger than this is used as it is. Half of the 60 s within
    /// which a change must take effect, leaving room for the read itself.
    pub fresh_for: Duration,
    /// The last good read serves this long when Twilio cannot be reached.
    pub stale_for: Duration,
    /// After a failed read, no new read starts for this long.
    pub retry_after_failure: Duration,
}

impl Default for PolicyTiming {
    fn default() -> Self {
        PolicyTiming {
            fresh_for: Duration::from_secs(30),
            stale_for: Duration::from_secs(3600),
            retry_after_failure: Duration::from_secs(5),
        }
    }
}

/// Command-line flags. Credentials are deliberately not flags: a flag shows up
/// in `ps` and shell history, an environment variable does not.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "recording-backend",
    version,
    about = "Starts dual-channel call recordings for the Flex plugin and links them for Flex Insights.",
    after_help = "Environment:\n  TWILIO_ACCOUNT_SID            account SID (AC...), required\n  TWILIO_AUTH_TOKEN             auth token, or else both of:\n  TWILIO_API_KEY                API key SID (SK...)\n  TWILIO_API_SECRET             API key secret\n  TWILIO_FLEX_WORKSPACE_SID     Flex TaskRouter workspace SID (WS...), required\n  ALLOWED_ORIGINS               comma-separated browser origins (default https://flex.twilio.com)\n  RECORDING_STATUS_CALLBACK     URL Twilio calls on recording events (optional; overrides PUBLIC_URL's /twilio/recording-status; none: no callbacks)\n  RECORDING_STATUS_CALLBACK_EVENT  events for it: in-progress, completed, absent (space or comma separated; default completed)\n  PUBLIC_URL                    https://host[:port] Twilio reaches this backend at: turns on the Event Streams sink (/twilio/event-streams) and recording status callbacks (/twilio/recording-status); needs TWILIO_AUTH_TOKEN\n  SAFETY_NET_SECONDS            wait after a reservation's accept before the safety net records a call the plugin did not (default 30)\n  AUDIT_TOKEN                   bearer token of GET /audit and `recording-backend audit` (without it /audit answers 404)\n  AUTHORIZATION                 strict (default) or token-only\n  POLICY                        on (default: enforce the Flex configuration's rules) or off\n  REDIS_URL                     redis://[:password@]host:port[/db], the claim store shared by several replicas (optional; without it run one replica)\n  TWILIO_REGION                 us1 or unset: Flex runs in US1 only; any other region is refused\n  TWILIO_EDGE                   edge of the REST API (api.{edge}.us1.twilio.com); the token check, Flex configuration, TaskRouter and Event Streams stay on their global hosts\n  METRICS_LISTEN                serve /metrics on this address (host:port) instead of --listen\n  LOG_FORMAT                    text (default) or json (one JSON object per line)\n  RUST_LOG                      log filter (default info)"
)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Send every Twilio request (api, taskrouter, iam) to this server instead of Twilio's hosts.
    #[arg(long, value_name = "URL")]
    pub twilio_base_url: Option<String>,
    /// Send the Flex token check only to this server (overrides --twilio-base-url for it).
    #[arg(long, value_name = "URL")]
    pub iam_base_url: Option<String>,
    /// Also allow http://127.0.0.1:* and http://localhost:* as browser origins.
    #[arg(long)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Which voice tasks of a time window should have been recorded and
    /// were not, and which were excluded by a rule: asks GET /audit of a
    /// running backend with AUDIT_TOKEN.
    Audit {
        /// Start of the window (RFC 3339, e.g. 2026-12-06T00:00:00Z).
        #[arg(long)]
        from: String,
        /// End of the window (RFC 3339).
        #[arg(long)]
        to: String,
        /// Base URL of the running backend.
        #[arg(long, default_value = "http://127.0.0.1:8787")]
        url: String,
        /// Print the JSON answer instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Twilio Event Streams for the safety net.
    #[command(subcommand)]
    EventStreams(EventStreamsCommand),
    /// Exit 0 if the backend at ADDR answers /healthz healthy (with --ready:
    /// /readyz ready) within 2 s, 1 otherwise, saying why (for container
    /// HEALTHCHECKs and probes: no shell or curl needed).
    Healthcheck {
        /// Address of the running backend (0.0.0.0 or [::] mean this host).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// Readiness instead of liveness: Twilio accepts the backend's
        /// credentials (GET /readyz).
        #[arg(long)]
        ready: bool,
    },
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum EventStreamsCommand {
    /// Creates the webhook sink (URL/twilio/event-streams) and subscribes it
    /// to the TaskRouter events the safety net reads, through Twilio's
    /// Events API with this environment's credentials.
    Setup {
        /// The backend's PUBLIC_URL (https://host[:port], no path).
        #[arg(long)]
        url: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    AuthToken(String),
    ApiKey { key: String, secret: String },
}

impl Credentials {
    /// Basic-auth user and password, as Twilio expects them.
    pub fn basic(&self, account_sid: &AccountSid) -> (String, String) {
        match self {
            Credentials::AuthToken(t) => (account_sid.to_string(), t.clone()),
            Credentials::ApiKey { key, secret } => (key.clone(), secret.clone()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizationMode {
    /// The token's worker must hold an accepted or wrapping reservation on the task the call belongs to.
    Strict,
    /// Any valid Flex token of the account may record any call (the template's behaviour).
    TokenOnly,
}

impl AuthorizationMode {
    /// As `AUTHORIZATION` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationMode::Strict => "strict",
            AuthorizationMode::TokenOnly => "token-only",
        }
    }
}

/// Whether the backend applies the Flex configuration's recording rules itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyMode {
    /// Every request is checked against the Flex configuration read from Twilio.
    On,
    /// The browser's decision is trusted (the behaviour before server-side policy).
    Off,
}

impl PolicyMode {
    /// As `POLICY` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyMode::On => "on",
            PolicyMode::Off => "off",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusCallback {
    pub url: String,
    pub events: Vec<String>,
}

/// Base URLs (scheme and host, no trailing slash) of the Twilio products we call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwilioHosts {
    pub api: String,
    pub taskrouter: String,
    pub iam: String,
    /// The REST API host that Insights recording links name: `api` of the
    /// region and edge. A `--twilio-base-url` override changes only where
    /// requests go (a stand-in for Twilio), not the links.
    pub recording_links: String,
    /// `flex-api`: the Flex configuration the recording policy is read from
    /// (`servers` of `/v1/Configuration` in `twilio_flex_v1.subset.json`:
    /// `https://flex-api.twilio.com`; regions and edges as for the others).
    pub flex: String,
    /// `events`: Event Streams' sinks and subscriptions
    /// (`https://events.twilio.com`).
    pub events: String,
}

/// The one region Flex runs in: Twilio's regional product availability
/// lists Flex for US1 only (`docs/flex-facts.md`, "Regions"), so the
/// recordings, tasks and Flex configuration this backend reaches are there.
pub const FLEX_REGION: &str = "us1";
/// US1's own edge, for `TWILIO_REGION=us1` given alone (Twilio's hostnames
/// are `{product}.{edge}.{region}.twilio.com`; a region without an edge is
/// reached through its own edge, as the helper libraries do).
const FLEX_REGION_EDGE: &str = "ashburn";

/// The documented hosts that never take a region or an edge: the token
/// check (`twilio-flex-token-validator` calls `iam.twilio.com`), the Flex
/// configuration (`flex-api.twilio.com`, `servers` of `/v1/Configuration`)
/// TaskRouter (`taskrouter.twilio.com`) and Event Streams
/// (`events.twilio.com`), each documented by Twilio on its global host only.
const IAM: &str = "https://iam.twilio.com";
const FLEX_API: &str = "https://flex-api.twilio.com";
const TASKROUTER: &str = "https://taskrouter.twilio.com";
/// Event Streams' sinks and subscriptions, documented on its global host.
const EVENTS: &str = "https://events.twilio.com";
/// What Flex Insights recording links name, whatever the edge: Twilio
/// documents the link as `https://api.twilio.com/2010-04-01/Accounts/{AC}/Recordings/{RE}`.
const RECORDING_LINKS: &str = "https://api.twilio.com";

impl TwilioHosts {
    /// Where each product is reached. A region other than US1 is refused
    /// (Flex does not run there); an edge (`TWILIO_EDGE`, or US1's own for
    /// `TWILIO_REGION=us1` alone) applies to the REST API only
    /// (`api.{edge}.us1.twilio.com`, Twilio's documented form), the one
    /// product this backend uses that Twilio documents edges for; the
    /// others stay on their global hosts.
    pub fn for_region(region: Option<&str>, edge: Option<&str>) -> Result<Self, ConfigError> {
        if let Some(r) = region.filter(|r| *r != FLEX_REGION) {
            return Err(ConfigError::RegionWithoutFlex(r.to_string()));
        }
        let edge = edge.or(region.map(|_| FLEX_REGION_EDGE));
        let api = match edge {
            Some(e) => format!("https://api.{e}.{FLEX_REGION}.twilio.com"),
            None => RECORDING_LINKS.to_string(),
        };
        Ok(TwilioHosts {
            api,
            taskrouter: TASKROUTER.into(),
            iam: IAM.into(),
            recording_links: RECORDING_LINKS.into(),
            flex: FLEX_API.into(),
            events: EVENTS.into(),
        })
    }

    fn all(url: &str, recording_links: String) -> Self {
        TwilioHosts {
            api: url.to_string(),
            taskrouter: url.to_string(),
            iam: url.to_string(),
            recording_links,
            flex: url.to_string(),
            events: url.to_string(),
        }
    }
}

/// Where the claim store is. Shown (logs, `Debug`) as host, port and
/// database only: the URL may carry a password.
#[derive(Clone)]
pub struct RedisTarget {
    info: redis::ConnectionInfo,
    shown: String,
}

impl RedisTarget {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::Invalid {
            var: "REDIS_URL",
            what: "Redis URL (redis://[:password@]host:port[/db])",
            // Only the scheme and host part: what follows may be a password.
            value: url.split('@').next_back().unwrap_or_default().to_string(),
        };
        // TLS (rediss://) and unix sockets are not built in; a URL naming
        // them is refused at start rather than failing on first use.
        if !url.starts_with("redis://") {
            return Err(invalid());
        }
        let info = redis::IntoConnectionInfo::into_connection_info(url).map_err(|_| invalid())?;
        let shown = format!("redis://{}/{}", info.addr(), info.redis_settings().db());
        Ok(RedisTarget { info, shown })
    }

    pub fn info(&self) -> &redis::ConnectionInfo {
        &self.info
    }
}

impl std::fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisTarget({})", self.shown)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// The claim store several replicas share (`REDIS_URL`); `None`: this
    /// process alone keeps which recordings it started.
    pub redis: Option<RedisTarget>,
    pub account_sid: AccountSid,
    pub credentials: Credentials,
    pub workspace_sid: WorkspaceSid,
    pub hosts: TwilioHosts,
    pub allowed_origins: Vec<String>,
    pub demo: bool,
    pub status_callback: Option<StatusCallback>,
    pub authorization: AuthorizationMode,
    /// `METRICS_LISTEN`: serve `/metrics` there, not on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    pub policy: PolicyMode,
    pub policy_timing: PolicyTiming,
    /// How long an authorize-ahead grant is used before it is checked again
    /// ([`GRANT_VALID_FOR`]; tests shorten it).
    pub grant_valid_for: Duration,
    /// How long after `max_pause_seconds` the backend resumes a pause no
    /// browser resumed ([`PAUSE_WATCH_GRACE`]; tests shorten it).
    pub pause_watch_grace: Duration,
    /// Where Twilio reaches this backend (`PUBLIC_URL`, no trailing slash)
    /// and the auth token its webhooks are signed with: both set, the Event
    /// Streams sink and the recording status callbacks are on.
    pub webhooks: Option<Webhooks>,
    /// Why the webhooks are off, for the start-up log line.
    pub webhooks_off: Option<&'static str>,
    /// `AUDIT_TOKEN`: the bearer token of `GET /audit`.
    pub audit_token: Option<Secret>,
    /// `SAFETY_NET_SECONDS`.
    pub safety_net_delay: Duration,
}

/// A secret read from the environment: never shown in logs or `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// What Twilio's webhooks to this backend need.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhooks {
    pub public_url: String,
    pub auth_token: String,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        write!(f, "Webhooks({})", self.public_url)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set; the backend needs it to talk to Twilio")]
    Missing(&'static str),
    #[error("neither TWILIO_AUTH_TOKEN nor TWILIO_API_KEY and TWILIO_API_SECRET are set; set one of them")]
    MissingCredentials,
    #[error("{0} is set but {1} is not; set both or use TWILIO_AUTH_TOKEN")]
    HalfApiKey(&'static str, &'static str),
    #[error("TWILIO_REGION={0}: Twilio Flex runs in the US1 region only (Twilio's regional product availability), so its tasks, recordings and configuration are there; unset TWILIO_REGION or set it to us1 (TWILIO_EDGE still picks the edge the REST API is reached through)")]
    RegionWithoutFlex(String),
    #[error("{var} is not a valid {what}: {value:?}")]
    Invalid {
        var: &'static str,
        what: &'static str,
        value: String,
    },
}

const VALID_CALLBACK_EVENTS: [&str; 3] = ["in-progress", "completed", "absent"];

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty() && !r.starts_with('/') && !r.chars().any(char::is_whitespace)
    })
}

fn trim_base(url: &str, var: &'static str) -> Result<String, ConfigError> {
    if !is_http_url(url) {
        return Err(ConfigError::Invalid {
            var,
            what: "http(s) URL",
            value: url.to_string(),
        });
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl Config {
    /// `env` looks a variable up; tests pass a map instead of the process environment.
    pub fn from_env(
        cli: &Cli,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let get = |k: &str| non_empty(env(k));
        let account_sid =
            get("TWILIO_ACCOUNT_SID").ok_or(ConfigError::Missing("TWILIO_ACCOUNT_SID"))?;
        let account_sid = AccountSid::parse(&account_sid).map_err(|e| ConfigError::Invalid {
            var: "TWILIO_ACCOUNT_SID",
            what: e.0.label(),
            value: account_sid,
        })?;
        let credentials = match (
            get("TWILIO_AUTH_TOKEN"),
            get("TWILIO_API_KEY"),
            get("TWILIO_API_SECRET"),
        ) {
            (_, Some(key), Some(secret)) => Credentials::ApiKey { key, secret },
            (Some(token), _, _) => Credentials::AuthToken(token),
            (None, Some(_), None) => {
                return Err(ConfigError::HalfApiKey(
                    "TWILIO_API_KEY",
                    "TWILIO_API_SECRET",
                ))
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::HalfApiKey(
                    "TWILIO_API_SECRET",
                    "TWILIO_API_KEY",
                ))
            }
            (None, None, None) => return Err(ConfigError::MissingCredentials),
        };
        let workspace_sid = get("TWILIO_FLEX_WORKSPACE_SID")
            .ok_or(ConfigError::Missing("TWILIO_FLEX_WORKSPACE_SID"))?;
        let workspace_sid =
            WorkspaceSid::parse(&workspace_sid).map_err(|e| ConfigError::Invalid {
                var: "TWILIO_FLEX_WORKSPACE_SID",
                what: e.0.label(),
                value: workspace_sid,
            })?;

        let regional = TwilioHosts::for_region(
            get("TWILIO_REGION").as_deref(),
            get("TWILIO_EDGE").as_deref(),
        )?;
        let mut hosts = match &cli.twilio_base_url {
            Some(url) => TwilioHosts::all(
                &trim_base(url, "--twilio-base-url")?,
                regional.recording_links,
            ),
            None => regional,
        };
        if let Some(iam) = &cli.iam_base_url {
            hosts.iam = trim_base(iam, "--iam-base-url")?;
        }

        let allowed_origins = match get("ALLOWED_ORIGINS") {
            None => vec![DEFAULT_ALLOWED_ORIGIN.to_string()],
            Some(list) => {
                let mut out = Vec::new();
                for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    if !is_http_url(o) {
                        return Err(ConfigError::Invalid {
                            var: "ALLOWED_ORIGINS",
                            what: "origin (https://host[:port])",
                            value: o.to_string(),
                        });
                    }
                    out.push(o.trim_end_matches('/').to_string());
                }
                out
            }
        };

        let public_url = get("PUBLIC_URL")
            .map(|u| trim_base(&u, "PUBLIC_URL"))
            .transpose()?;
        // Twilio signs its webhooks with the account's auth token, which API
        // key credentials do not replace.
        let (webhooks, webhooks_off) = match (public_url, get("TWILIO_AUTH_TOKEN")) {
            (Some(public_url), Some(auth_token)) => (
                Some(Webhooks {
                    public_url,
                    auth_token,
                }),
                None,
            ),
            (None, _) => (None, Some("PUBLIC_URL is not set: the Event Streams sink (safety net) and the recording status callbacks are off")),
            (Some(_), None) => (None, Some("PUBLIC_URL is set but TWILIO_AUTH_TOKEN is not: Twilio signs its webhooks with the auth token, so the Event Streams sink (safety net) and the recording status callbacks are off")),
        };
        let audit_token = get("AUDIT_TOKEN").map(Secret);
        let safety_net_delay = match get("SAFETY_NET_SECONDS") {
            None => DEFAULT_SAFETY_NET,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= 3600 => Duration::from_secs(n),
                _ => {
                    return Err(ConfigError::Invalid {
                        var: "SAFETY_NET_SECONDS",
                        what: "number of seconds (0 to 3600)",
                        value: v,
                    })
                }
            },
        };

        let status_callback = match get("RECORDING_STATUS_CALLBACK") {
            // No callbacks at all, even with PUBLIC_URL (a proxy or a
            // contract checker in front of Twilio that refuses them).
            Some(none) if none == "none" => None,
            None => webhooks.as_ref().map(|w| StatusCallback {
                url: format!("{}{RECORDING_STATUS_PATH}", w.public_url),
                events: VALID_CALLBACK_EVENTS
                    .iter()
                    .map(|e| e.to_string())
                    .collect(),
            }),
            Some(url) => {
                if !is_http_url(&url) {
                    return Err(ConfigError::Invalid {
                        var: "RECORDING_STATUS_CALLBACK",
                        what: "http(s) URL",
                        value: url,
                    });
                }
                let raw =
                    get("RECORDING_STATUS_CALLBACK_EVENT").unwrap_or_else(|| "completed".into());
                let mut events = Vec::new();
                for e in raw
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                {
                    if !VALID_CALLBACK_EVENTS.contains(&e) {
                        return Err(ConfigError::Invalid {
                            var: "RECORDING_STATUS_CALLBACK_EVENT",
                            what: "event list (in-progress, completed, absent)",
                            value: raw.clone(),
                        });
                    }
                    if !events.iter().any(|x: &String| x == e) {
                        events.push(e.to_string());
                    }
                }
                Some(StatusCallback { url, events })
            }
        };

        let authorization = match get("AUTHORIZATION").as_deref() {
            None | Some("strict") => AuthorizationMode::Strict,
            Some("token-only") => AuthorizationMode::TokenOnly,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "AUTHORIZATION",
                    what: "mode (strict or token-only)",
                    value: other.to_string(),
                })
            }
        };

        let redis = get("REDIS_URL")
            .map(|url| RedisTarget::parse(&url))
            .transpose()?;

        let metrics_listen = match get("METRICS_LISTEN") {
            None => None,
            Some(v) => Some(v.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                var: "METRICS_LISTEN",
                what: "address (host:port, e.g. 127.0.0.1:9187)",
                value: v.clone(),
            })?),
        };

        let policy = match get("POLICY").as_deref() {
            None | Some("on") => PolicyMode::On,
            Some("off") => PolicyMode::Off,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "POLICY",
                    what: "policy mode (on or off)",
                    value: other.to_string(),
                })
            }
        };

        Ok(Config {
            listen: cli.listen,
            redis,
            account_sid,
            credentials,
            workspace_sid,
            hosts,
            allowed_origins,
            demo: cli.demo,
            status_callback,
            authorization,
            metrics_listen,
            policy,
            policy_timing: PolicyTiming::default(),
            grant_valid_for: GRANT_VALID_FOR,
            pause_watch_grace: PAUSE_WATCH_GRACE,
            webhooks,
            webhooks_off,
            audit_token,
            safety_net_delay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const AC: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("recording-backend").chain(args.iter().copied()))
            .expect("test flags parse")
    }

    fn load(args: &[&str], vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(&cli(args), |k| map.get(k).cloned())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TWILIO_ACCOUNT_SID", AC),
            ("TWILIO_AUTH_TOKEN", "tok"),
            ("TWILIO_FLEX_WORKSPACE_SID", WS),
        ]
    }

    #[test]
    fn missing_variables_are_named() {
        assert_eq!(
            load(&[], &[]).unwrap_err(),
            ConfigError::Missing("TWILIO_ACCOUNT_SID")
        );
        assert_eq!(
            load(&[], &[("TWILIO_ACCOUNT_SID", AC)]).unwrap_err(),
            ConfigError::MissingCredentials
        );
        assert_eq!(
            load(
                &[],
                &[("TWILIO_ACCOUNT_SID", AC), ("TWILIO_AUTH_TOKEN", "t")]
            )
            .unwrap_err(),
            ConfigError::Missing("TWILIO_FLEX_WORKSPACE_SID")
        );
        assert_eq!(
            load(
                &[],
                &[("TWILIO_ACCOUNT_SID", AC), ("TWILIO_API_KEY", "SK1")]
            )
            .unwrap_err(),
            ConfigError::HalfApiKey("TWILIO_API_KEY", "TWILIO_API_SECRET")
        );
        let msg = ConfigError::Missing("TWILIO_ACCOUNT_SID").to_string();
        assert!(msg.contains("TWILIO_ACCOUNT_SID"), "{msg}");
        // An empty value is as good as missing: `export X=` must not start a broken backend.
        assert_eq!(
            load(&[], &[("TWILIO_ACCOUNT_SID", " ")]).unwrap_err(),
            ConfigError::Missing("TWILIO_ACCOUNT_SID")
        );
    }

    #[test]
    fn redis_url_is_optional_checked_and_never_shown_with_its_password() {
        assert!(load(&[], &base()).unwrap().redis.is_none());
        let mut v = base();
        v.push(("REDIS_URL", "redis://:s3cret@10.0.0.5:6380/2"));
        let c = load(&[], &v).unwrap();
        let shown = format!("{} {:?} {c:?}", c.redis.as_ref().unwrap(), c.redis);
        assert!(shown.contains("10.0.0.5:6380/2"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        for bad in [
            "rediss://:s3cret@cache.example:6380",
            "unix:///run/redis.sock",
            "cache.example:6379",
            "redis://:s3cret@cache.example:notaport",
        ] {
            let mut v = base();
            v.push(("REDIS_URL", bad));
            match load(&[], &v) {
                Err(
                    e @ ConfigError::Invalid {
                        var: "REDIS_URL", ..
                    },
                ) => {
                    assert!(!e.to_string().contains("s3cret"), "{e}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn defaults() {
        let c = load(&[], &base()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(c.allowed_origins, vec!["https://flex.twilio.com"]);
        assert_eq!(c.authorization, AuthorizationMode::Strict);
        assert_eq!(c.hosts.api, "https://api.twilio.com");
        assert_eq!(c.hosts.taskrouter, "https://taskrouter.twilio.com");
        assert_eq!(c.hosts.iam, "https://iam.twilio.com");
        assert_eq!(c.credentials, Credentials::AuthToken("tok".into()));
        assert!(c.status_callback.is_none());
        assert!(c.webhooks.is_none());
        assert!(c.audit_token.is_none());
        assert_eq!(c.safety_net_delay, DEFAULT_SAFETY_NET);
        assert_eq!(c.hosts.events, "https://events.twilio.com");
    }

    #[test]
    fn webhooks_need_the_public_url_and_the_auth_token() {
        let mut v = base();
        v.push(("PUBLIC_URL", "https://rec.example/"));
        v.push(("SAFETY_NET_SECONDS", "2"));
        v.push(("AUDIT_TOKEN", "audit-secret"));
        let c = load(&[], &v).unwrap();
        assert_eq!(
            c.webhooks,
            Some(Webhooks {
                public_url: "https://rec.example".into(),
                auth_token: "tok".into()
            })
        );
        assert_eq!(
            c.audit_token.as_ref().map(Secret::expose),
            Some("audit-secret")
        );
        assert!(!format!("{c:?}").contains("audit-secret"));
        assert!(!format!("{:?}", c.webhooks).contains("tok"));
        assert_eq!(c.safety_net_delay, Duration::from_secs(2));
        // Every recording asks for its status callbacks here.
        assert_eq!(
            c.status_callback,
            Some(StatusCallback {
                url: "https://rec.example/twilio/recording-status".into(),
                events: vec!["in-progress".into(), "completed".into(), "absent".into()],
            })
        );
        // The explicit variable still wins.
        let mut o = v.clone();
        o.push(("RECORDING_STATUS_CALLBACK", "https://cb.example/rec"));
        assert_eq!(
            load(&[], &o).unwrap().status_callback.unwrap().url,
            "https://cb.example/rec"
        );
        let mut none = v.clone();
        none.push(("RECORDING_STATUS_CALLBACK", "none"));
        let c = load(&[], &none).unwrap();
        assert!(c.status_callback.is_none());
        assert!(c.webhooks.is_some());
        // API key credentials alone: no token to check Twilio's signatures with.
        let keys = vec![
            ("TWILIO_ACCOUNT_SID", AC),
            ("TWILIO_API_KEY", "SKx"),
            ("TWILIO_API_SECRET", "sec"),
            ("TWILIO_FLEX_WORKSPACE_SID", WS),
            ("PUBLIC_URL", "https://rec.example"),
        ];
        let c = load(&[], &keys).unwrap();
        assert!(c.webhooks.is_none());
        assert!(c.webhooks_off.unwrap().contains("TWILIO_AUTH_TOKEN"));
        assert!(c.status_callback.is_none());
        let mut both = keys.clone();
        both.push(("TWILIO_AUTH_TOKEN", "tok"));
        let c = load(&[], &both).unwrap();
        assert!(matches!(c.credentials, Credentials::ApiKey { .. }));
        assert_eq!(c.webhooks.unwrap().auth_token, "tok");
        for (k, bad) in [
            ("PUBLIC_URL", "rec.example"),
            ("SAFETY_NET_SECONDS", "-1"),
            ("SAFETY_NET_SECONDS", "soon"),
            ("SAFETY_NET_SECONDS", "99999"),
        ] {
            let mut v = base();
            v.push((k, bad));
            assert!(
                matches!(load(&[], &v), Err(ConfigError::Invalid { var, .. }) if var == k),
                "{k}={bad}"
            );
        }
    }

    #[test]
    fn api_key_wins_and_is_basic_auth_user() {
        let mut v = base();
        v.push(("TWILIO_API_KEY", "SKx"));
        v.push(("TWILIO_API_SECRET", "sec"));
        let c = load(&[], &v).unwrap();
        assert_eq!(
            c.credentials.basic(&AC.parse().unwrap()),
            ("SKx".into(), "sec".into())
        );
    }

    #[test]
    fn flex_runs_in_us1_and_an_edge_applies_to_the_rest_api_only() {
        const GLOBAL: [&str; 3] = [
            "https://iam.twilio.com",
            "https://flex-api.twilio.com",
            "https://taskrouter.twilio.com",
        ];
        // (region, edge, the REST API's host)
        let cases = [
            (None, None, "https://api.twilio.com"),
            (Some("us1"), None, "https://api.ashburn.us1.twilio.com"),
            (None, Some("dublin"), "https://api.dublin.us1.twilio.com"),
            (
                Some("us1"),
                Some("sydney"),
                "https://api.sydney.us1.twilio.com",
            ),
        ];
        for (region, edge, api) in cases {
            let h = TwilioHosts::for_region(region, edge).unwrap();
            assert_eq!(h.api, api, "{region:?} {edge:?}");
            assert_eq!(
                [h.iam.as_str(), h.flex.as_str(), h.taskrouter.as_str()],
                GLOBAL
            );
            assert_eq!(
                h.recording_links, "https://api.twilio.com",
                "the Insights link"
            );
        }
        // A region Flex does not run in is refused, with the reason.
        for region in ["ie1", "au1", "jp1", "de1", "US1"] {
            for edge in [None, Some("dublin")] {
                let e = TwilioHosts::for_region(Some(region), edge).unwrap_err();
                assert_eq!(e, ConfigError::RegionWithoutFlex(region.into()));
                let text = e.to_string();
                assert!(
                    text.contains("TWILIO_REGION") && text.contains("US1 region only"),
                    "{text}"
                );
            }
        }
        let mut v = base();
        v.push(("TWILIO_REGION", "ie1"));
        v.push(("TWILIO_EDGE", "dublin"));
        assert!(matches!(load(&[], &v), Err(ConfigError::RegionWithoutFlex(r)) if r == "ie1"));
        let mut v = base();
        v.push(("TWILIO_EDGE", "dublin"));
        let c = load(&[], &v).unwrap();
        assert_eq!(c.hosts.api, "https://api.dublin.us1.twilio.com");
        assert_eq!(c.hosts.iam, "https://iam.twilio.com");
        // A stand-in for Twilio changes where requests go, not what links name.
        let c = load(&["--twilio-base-url", "http://127.0.0.1:9"], &v).unwrap();
        assert_eq!(c.hosts.api, "http://127.0.0.1:9");
        assert_eq!(c.hosts.recording_links, "https://api.twilio.com");
    }

    #[test]
    fn base_url_flags() {
        let c = load(&["--twilio-base-url", "http://127.0.0.1:9/"], &base()).unwrap();
        assert_eq!(c.hosts.api, "http://127.0.0.1:9");
        assert_eq!(c.hosts.taskrouter, "http://127.0.0.1:9");
        assert_eq!(c.hosts.iam, "http://127.0.0.1:9");
        assert_eq!(c.hosts.flex, "http://127.0.0.1:9");
        let c = load(
            &[
                "--twilio-base-url",
                "http://127.0.0.1:9",
                "--iam-base-url",
                "http://127.0.0.1:10",
            ],
            &base(),
        )
        .unwrap();
        assert_eq!(c.hosts.api, "http://127.0.0.1:9");
        assert_eq!(c.hosts.iam, "http://127.0.0.1:10");
        assert!(matches!(
            load(&["--twilio-base-url", "ftp://x"], &base()),
            Err(ConfigError::Invalid {
                var: "--twilio-base-url",
                ..
            })
        ));
    }

    #[test]
    fn policy_variables() {
        let mut v = base();
        v.push(("ALLOWED_ORIGINS", "https://a.example, https://b.example/"));
        v.push(("AUTHORIZATION", "token-only"));
        v.push(("RECORDING_STATUS_CALLBACK", "https://cb.example/rec"));
        v.push((
            "RECORDING_STATUS_CALLBACK_EVENT",
            "in-progress completed,completed",
        ));
        let c = load(&["--demo", "--listen", "127.0.0.1:0"], &v).unwrap();
        assert_eq!(
            c.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(c.authorization, AuthorizationMode::TokenOnly);
        assert_eq!(c.policy, PolicyMode::On);
        let mut off = base();
        off.push(("POLICY", "off"));
        assert_eq!(load(&[], &off).unwrap().policy, PolicyMode::Off);
        assert!(c.demo);
        assert_eq!(
            c.status_callback,
            Some(StatusCallback {
                url: "https://cb.example/rec".into(),
                events: vec!["in-progress".into(), "completed".into()],
            })
        );
        for (k, bad) in [
            ("AUTHORIZATION", "lax"),
            ("POLICY", "maybe"),
            ("RECORDING_STATUS_CALLBACK", "not a url"),
            ("ALLOWED_ORIGINS", "flex.twilio.com"),
            ("TWILIO_FLEX_WORKSPACE_SID", "WS1"),
        ] {
            let mut v = base();
            v.retain(|(key, _)| *key != k);
            v.push((k, bad));
            assert!(
                matches!(load(&[], &v), Err(ConfigError::Invalid { var, .. }) if var == k),
                "{k}={bad}"
            );
        }
        let mut v = base();
        v.push(("METRICS_LISTEN", "127.0.0.1:9187"));
        assert_eq!(
            load(&[], &v).unwrap().metrics_listen,
            Some("127.0.0.1:9187".parse().unwrap())
        );
        assert_eq!(load(&[], &base()).unwrap().metrics_listen, None);
        let mut v = base();
        v.push(("METRICS_LISTEN", "9187"));
        assert!(matches!(
            load(&[], &v),
            Err(ConfigError::Invalid {
                var: "METRICS_LISTEN",
                ..
            })
        ));
        let mut v = base();
        v.push(("RECORDING_STATUS_CALLBACK", "https://cb.example"));
        v.push(("RECORDING_STATUS_CALLBACK_EVENT", "ringing"));
        assert!(matches!(
            load(&[], &v),
            Err(ConfigError::Invalid {
                var: "RECORDING_STATUS_CALLBACK_EVENT",
                ..
            })
        ));
    }
}
