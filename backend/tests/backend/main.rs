//! The backend against the real Twilio simulator: every behaviour of issue 5
//! that needs Twilio on the other side. One test binary, one file per job:
//! on a small machine fewer binaries link faster.

#[path = "../common/mod.rs"]
mod common;

mod authorization;
mod link;
mod recording;
mod routes;
mod token;
mod twilio_errors;
