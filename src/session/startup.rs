//! Start-up: reading the configuration once, and saying in the log (and
//! one notification) what is wrong with it, or what the plugin will do.

use super::{Command, Core, Level, Out};
use crate::backend_client::Jitter;
use crate::config::{self, Block, Channel, Method, Setup};
use crate::pause::PauseConfig;
use crate::settings::{self, Settings};
use crate::strings;
use crate::vec_map::VecMap;
use std::collections::VecDeque;

/// What the shell knows of the logged-in worker at start.
#[derive(Clone, Copy, Debug)]
pub struct Worker<'a, D> {
    /// `manager.workerClient.attributes`, for their `config_overrides`.
    pub attributes: Option<D>,
    /// `manager.user.roles` (`admin`, `supervisor`, `agent`...).
    pub roles: &'a [String],
}

impl<D> Default for Worker<'_, D> {
    fn default() -> Self {
        Worker {
            attributes: None,
            roles: &[],
        }
    }
}

impl Core {
    /// `custom_data` is Flex's `manager.configuration.custom_data`, or why the
    /// shell could not read it. Without the worker's attributes or roles.
    pub fn new<D: crate::document::Document + Copy>(
        custom_data: Result<D, String>,
        worker_sid: &str,
        locale: &str,
        seed: u64,
    ) -> (Core, Vec<Command>) {
        Core::for_worker(custom_data, Worker::default(), worker_sid, locale, seed)
    }

    /// As `new`, for a worker whose TaskRouter attributes (their
    /// `config_overrides`, merged over `custom_data`) and Flex roles are known.
    pub fn for_worker<D: crate::document::Document + Copy>(
        custom_data: Result<D, String>,
        worker: Worker<'_, D>,
        worker_sid: &str,
        locale: &str,
        seed: u64,
    ) -> (Core, Vec<Command>) {
        let mut out = Out(Vec::new());
        let resolved = match &custom_data {
            Ok(v) => settings::resolve(*v, worker.attributes),
            Err(e) => Settings {
                block: Block::Template,
                recording: Setup::Invalid(vec![config::ConfigError {
                    path: "custom_data".into(),
                    problem: format!("not readable ({e})"),
                }]),
                pause: Ok(PauseConfig::default()),
                conflicts: Vec::new(),
                overridden: false,
            },
        };
        let Settings {
            block,
            recording: setup,
            pause,
            conflicts,
            overridden,
        } = resolved;
        if overridden {
            out.log(
                Level::Info,
                format!(
                    "this worker's {} are merged over custom_data",
                    settings::OVERRIDES_KEY
                ),
            );
        }
        // Twice the recordings, or two Pause buttons: the administrator must
        // know; agents cannot fix it and are not shown it.
        for feature in &conflicts {
            out.log(Level::Warn, feature.message());
        }
        if !conflicts.is_empty() && worker.roles.iter().any(|r| r == "admin") {
            out.0.push(Command::Notify {
                id: strings::TEMPLATE_CONFLICT_NOTIFICATION_ID,
                text: strings::template_conflict_notification(locale),
            });
        }
        let recording_on = matches!(setup, Setup::Enabled(_));
        let config = match setup {
            Setup::Disabled => {
                out.log(
                    Level::Debug,
                    "disabled in the Flex configuration; not recording".into(),
                );
                None
            }
            Setup::Invalid(errors) => {
                for e in &errors {
                    out.log(Level::Error, format!("misconfigured: {e}"));
                }
                out.log(
                    Level::Error,
                    format!(
                        "not recording any call until custom_data.{} is fixed",
                        block.recording_path()
                    ),
                );
                out.0.push(Command::Notify {
                    id: strings::BROKEN_NOTIFICATION_ID,
                    text: strings::broken_notification(locale),
                });
                None
            }
            Setup::Enabled(c) if c.method == Method::Conference => {
                out.log(
                    Level::Info,
                    "method conference: Flex records each call's whole conference; the plugin decides conferenceRecord when a task is accepted and makes no backend request".into(),
                );
                if c.channel == Channel::Worker {
                    out.log(
                        Level::Warn,
                        "channel \"worker\" is ignored with method \"conference\": one recording covers the whole conference; for one recording per worker leg set method \"call-leg\"".into(),
                    );
                }
                Some(c)
            }
            Setup::Enabled(c) => {
                out.log(
                    Level::Info,
                    format!(
                        "recording the {} channel through {}",
                        match c.channel {
                            Channel::Customer => "customer",
                            Channel::Worker => "worker",
                        },
                        c.backend_url
                    ),
                );
                Some(c)
            }
        };
        let pause = match pause {
            Ok(p) => Some(p),
            Err(errors) => {
                for e in &errors {
                    out.log(Level::Error, format!("misconfigured: {e}"));
                }
                out.log(
                    Level::Error,
                    format!(
                        "pause and resume are off until custom_data.{} is fixed",
                        block.pause_path()
                    ),
                );
                // One notification, whichever part is wrong.
                if recording_on {
                    out.0.push(Command::Notify {
                        id: strings::BROKEN_NOTIFICATION_ID,
                        text: strings::broken_notification(locale),
                    });
                }
                None
            }
        };
        // The conference method needs the backend only for pausing: without
        // its location, pausing is off, and the administrator is told where.
        let pause = match (pause, &config) {
            (Some(p), Some(c)) if p.enabled && c.backend_url.is_empty() => {
                out.log(
                    Level::Error,
                    format!(
                        "misconfigured: {}.backend_url: missing (or the template's serverless_functions_domain): pausing Flex's conference recording goes through the recording backend ({}.enabled is true)",
                        block.recording_path(),
                        block.pause_path()
                    ),
                );
                out.0.push(Command::Notify {
                    id: strings::BROKEN_NOTIFICATION_ID,
                    text: strings::broken_notification(locale),
                });
                None
            }
            (p, _) => p,
        };
        let core = Core {
            block,
            pause,
            paused: VecMap::new(),
            paused_recordings: VecMap::new(),
            config,
            worker_sid: worker_sid.to_string(),
            active_call: None,
            sessions: VecMap::new(),
            finished: VecDeque::new(),
            ended_targets: VecDeque::new(),
            requests: VecMap::new(),
            timers: VecMap::new(),
            next_id: 1,
            jitter: Jitter::new(seed),
            followed: Vec::new(),
            warned_double_recording: false,
            warned_conference_unreachable: false,
            authorizing: VecMap::new(),
        };
        (core, out.0)
    }

    /// Whether the feature is on and correctly configured.
    pub fn is_enabled(&self) -> bool {
        self.config.is_some()
    }
}
