//! Admission: whether an accepted task gets a session (`exclusion::admit`,
//! then what the call kind and the channel rule out), and the conference
//! method's decision before the accept.

use super::{Command, Core, Level, Out, Phase, Session, Status, TimerPurpose};
use crate::conference::{self, Decision, Refusal};
use crate::config::{Channel, Method};
use crate::exclusion::{admit, NotAdmitted};
use crate::leg::{self, already_recorded, call_kind, CallKind};
use crate::sid::{is_sid, SidKind};
use crate::snapshot::TaskSnapshot;

impl Core {
    /// `beforeAcceptTask` with the `conference` method: what to set in
    /// `conferenceOptions.conferenceRecord` (`conference::decide`), logged,
    /// and kept for `status()` in this Flex instance, the one that decided.
    pub fn before_accept(&mut self, task: &TaskSnapshot) -> (Decision, Vec<Command>) {
        let mut out = Out(Vec::new());
        let decision = conference::decide(self.config.as_ref(), task);
        let t = &task.task_sid;
        let state = match &decision {
            Decision::Record => {
                out.log(
                    Level::Info,
                    format!("conference recording for {t}: {}", decision.reason()),
                );
                "conference"
            }
            Decision::DoNotRecord(Refusal::Excluded(why)) => {
                out.log(Level::Info, format!("not recording {t}: {why}"));
                "excluded"
            }
            Decision::DoNotRecord(
                Refusal::UnreadableAttributes(_) | Refusal::AttributesNotAnObject(_),
            ) => {
                out.log(
                    Level::Error,
                    format!("not recording {t}: {}", decision.reason()),
                );
                "excluded"
            }
            Decision::Untouched(_) => return (decision, out.0),
        };
        if is_sid(SidKind::Task, t) {
            self.finish(
                t,
                Status {
                    state,
                    recordings: Vec::new(),
                    reason: Some(decision.reason()),
                },
            );
        }
        (decision, out.0)
    }

    pub(super) fn on_accepted(&mut self, task: TaskSnapshot, out: &mut Out) {
        let Some(config) = &self.config else { return };
        // Flex records the conference; `before_accept` has decided already.
        // A conference it records is followed, so that it can be paused.
        if config.method == Method::Conference {
            let t = task.task_sid.clone();
            // Every voice task is followed, whatever was decided: only the tab
            // that ran the accept decided, and what Twilio records (read
            // through the backend) is what a pause reaches.
            if is_sid(SidKind::Task, &t)
                && !self.sessions.contains_key(&t)
                && task.channel.as_deref() == Some("voice")
            {
                let kind = call_kind(&*task.attributes);
                self.sessions.insert(
                    t.clone(),
                    Session {
                        task_sid: t,
                        reservation_sid: Some(task.sid).filter(|s| is_sid(SidKind::Reservation, s)),
                        accepted_at: task.date_updated,
                        kind,
                        conference: None,
                        legs: Vec::new(),
                        phase: Phase::Conference,
                        wait_timer: None,
                        linked: true,
                    },
                );
            }
            return;
        }
        let t = task.task_sid.clone();
        if !is_sid(SidKind::Task, &t) {
            out.log(
                Level::Warn,
                format!("ignoring an accepted task without a valid task SID (\"{t}\")"),
            );
            return;
        }
        if self.sessions.contains_key(&t) {
            return;
        }
        let attrs = &*task.attributes;
        let refusal = match admit(config, task.facts()) {
            Ok(()) => None,
            Err(NotAdmitted::NotVoice) => return,
            Err(NotAdmitted::Refused(r)) => Some(r),
        };
        if let Some(refusal) = refusal {
            let (level, reason) = match &refusal {
                Refusal::Excluded(why) => (Level::Info, why.to_string()),
                Refusal::AttributesNotAnObject(why) => (Level::Warn, format!("attributes {why}")),
                Refusal::UnreadableAttributes(e) => (Level::Warn, e.to_string()),
            };
            out.log(level, format!("not recording {t}: {refusal}"));
            self.finish(
                &t,
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some(reason),
                },
            );
            return;
        }
        let kind = call_kind(attrs);
        if kind == CallKind::InternalInbound {
            out.log(
                Level::Debug,
                format!("not recording {t}: the caller's side records agent-to-agent calls"),
            );
            self.finish(
                &t,
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some("inbound leg of an internal call".into()),
                },
            );
            return;
        }
        if config.channel == Channel::Customer && already_recorded(attrs) {
            out.log(Level::Info, format!("not recording {t}: conversations.media shows it is recorded already (transfer)"));
            self.finish(
                &t,
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some("already recorded before a transfer".into()),
                },
            );
            return;
        }
        let max_wait = config.max_wait_ms;
        let session = Session {
            task_sid: t.clone(),
            reservation_sid: Some(task.sid).filter(|s| is_sid(SidKind::Reservation, s)),
            accepted_at: task.date_updated,
            kind,
            conference: None,
            legs: Vec::new(),
            phase: Phase::Waiting,
            wait_timer: None,
            linked: leg::task_conference(attrs).is_some(),
        };
        self.sessions.insert(t.clone(), session);
        self.authorize_ahead(&t, out);
        let timer = self.set_timer(
            max_wait,
            TimerPurpose::Wait {
                task_sid: t.clone(),
            },
            out,
        );
        if let Some(s) = self.sessions.get_mut(&t) {
            s.wait_timer = Some(timer);
        }
        self.evaluate(&t, out);
    }
}
