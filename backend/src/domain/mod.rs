//! The domain: what the backend decides and does, between the HTTP routes
//! above (`http`) and the clients below (`config`, `twilio`, `claims`).
//! Nothing here knows of HTTP requests or of the app's state: each piece
//! takes the clients and stores it works with.
//!
//! Within the domain, `auth` (who the token is) comes first; `authz` (what
//! it may touch) uses it; `policy` (the Flex configuration's rules) stands
//! alone; `grant` (authorize ahead) uses all three; `recording` (one
//! recording per call), `attributes` (the Insights write) and
//! `pause_watch` (the backend's own `max_pause_seconds`) use the clients;
//! `pause` uses `pause_watch` and `policy`. `events` reads Event Streams
//! deliveries; `audit` keeps and reports what was (not) recorded;
//! `safety_net` records what the plugin did not, with `recording`,
//! `attributes`, `policy` and `audit`.
//! `pause` uses `pause_watch` and `policy`; `readiness` (whether Twilio
//! accepts the credentials) reads through `policy`.

pub mod attributes;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod events;
pub mod grant;
pub mod pause;
pub mod pause_watch;
pub mod policy;
pub mod readiness;
pub mod recording;
pub mod safety_net;
