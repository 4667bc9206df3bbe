//! Which call leg of a task to record, and whether this Flex instance is the
//! one that carries it.

use crate::attributes::{Found, Lookup};
use crate::config::Channel;
use crate::insights::RecordedLeg;
use crate::sid::{is_sid, SidKind};
use crate::snapshot::ConferenceSnapshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// A customer called in.
    Inbound,
    /// Flex called out; the customer joins the conference when they answer.
    Outbound,
    /// Agent-to-agent call, the receiving agent's task: never recorded, the
    /// caller's task records the call (one recording, not two).
    InternalInbound,
    /// Agent-to-agent call, the calling agent's task: there is no conference
    /// state for it in Flex, only this instance's own active call.
    InternalOutbound,
}

fn truthy(found: &Found) -> bool {
    match found {
        Found::Scalar(t) => !(t.is_empty() || t == "false" || t == "0"),
        Found::Array { .. } | Found::Object => true,
        Found::Missing | Found::Null | Found::Unreadable(_) => false,
    }
}

pub fn call_kind<L: Lookup + ?Sized>(attributes: &L) -> CallKind {
    let internal = truthy(&attributes.lookup("client_call"));
    let outbound = matches!(attributes.lookup("direction"), Found::Scalar(d) if d == "outbound");
    match (internal, outbound) {
        (false, false) => CallKind::Inbound,
        (false, true) => CallKind::Outbound,
        (true, false) => CallKind::InternalInbound,
        (true, true) => CallKind::InternalOutbound,
    }
}

/// A task that already lists `conversations.media` was recorded before it
/// reached us (a transfer): on the customer channel that one recording covers it.
pub fn already_recorded<L: Lookup + ?Sized>(attributes: &L) -> bool {
    match attributes.lookup("conversations.media") {
        Found::Array { len, .. } => len > 0,
        Found::Scalar(_) | Found::Object => true,
        _ => false,
    }
}

/// A string attribute that holds a SID of `kind`.
pub fn sid_attribute<L: Lookup + ?Sized>(
    attributes: &L,
    key: &str,
    kind: SidKind,
) -> Option<String> {
    match attributes.lookup(key) {
        Found::Scalar(s) if is_sid(kind, &s) => Some(s),
        _ => None,
    }
}

/// The conference a task's attributes name (`conference.sid`, as Flex writes
/// it), read the same way by the plugin and the backend's authorization.
pub fn task_conference<L: Lookup + ?Sized>(attributes: &L) -> Option<String> {
    sid_attribute(attributes, "conference.sid", SidKind::Conference)
}

/// The customer call a task's attributes name (`call_sid`).
pub fn task_call<L: Lookup + ?Sized>(attributes: &L) -> Option<String> {
    sid_attribute(attributes, "call_sid", SidKind::Call)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leg {
    pub call_sid: String,
    pub kind: RecordedLeg,
}

fn valid_call(c: &Option<String>) -> Option<&str> {
    c.as_deref().filter(|c| is_sid(SidKind::Call, c))
}

/// The customer's live leg in the conference.
pub fn customer_leg(conference: &ConferenceSnapshot) -> Option<&str> {
    conference
        .participants
        .iter()
        .filter(|p| p.is_type("customer") && p.is_joined())
        .find_map(|p| valid_call(&p.call_sid))
}

/// This worker's live leg. After Join Call the old leg may still be listed as
/// joined for a moment; the newest (last listed) joined leg is the live one.
pub fn worker_leg<'a>(conference: &'a ConferenceSnapshot, worker_sid: &str) -> Option<&'a str> {
    conference
        .participants
        .iter()
        .rev()
        .filter(|p| p.is_worker(worker_sid) && p.is_joined())
        .find_map(|p| valid_call(&p.call_sid))
}

/// Whether this worker is still in the call: a joined participant of theirs,
/// even one whose call SID Flex does not have yet (Join Call in progress).
pub fn worker_joined(conference: &ConferenceSnapshot, worker_sid: &str) -> bool {
    conference
        .participants
        .iter()
        .any(|p| p.is_worker(worker_sid) && p.is_joined())
}

/// The leg to record now, if it exists yet.
pub fn recordable_leg(
    channel: Channel,
    kind: CallKind,
    conference: Option<&ConferenceSnapshot>,
    active_call: Option<&str>,
    worker_sid: &str,
) -> Option<Leg> {
    match kind {
        CallKind::InternalInbound => None,
        CallKind::InternalOutbound => {
            active_call
                .filter(|c| is_sid(SidKind::Call, c))
                .map(|c| Leg {
                    call_sid: c.to_string(),
                    kind: RecordedLeg::Worker,
                })
        }
        CallKind::Inbound | CallKind::Outbound => {
            let conference = conference?;
            let customer = customer_leg(conference);
            match channel {
                Channel::Customer => customer.map(|c| Leg {
                    call_sid: c.to_string(),
                    kind: RecordedLeg::Customer,
                }),
                Channel::Worker => {
                    // On an outbound call the worker's leg exists while it still
                    // rings out; recording starts when the called party answers.
                    if kind == CallKind::Outbound && customer.is_none() {
                        return None;
                    }
                    worker_leg(conference, worker_sid).map(|c| Leg {
                        call_sid: c.to_string(),
                        kind: RecordedLeg::Worker,
                    })
                }
            }
        }
    }
}

/// Whether this Flex instance carries the call: its own Voice SDK call is the
/// leg, or is this worker's leg of the conference. The carrying instance acts
/// at once; the others of the same worker wait a moment, and the backend
/// answers them with the recording already started.
pub fn carried_here(
    leg: &Leg,
    conference: Option<&ConferenceSnapshot>,
    active_call: Option<&str>,
    worker_sid: &str,
) -> bool {
    let Some(active) = active_call else {
        return false;
    };
    active == leg.call_sid || conference.and_then(|c| worker_leg(c, worker_sid)) == Some(active)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Attributes;
    use crate::snapshot::Participant;

    const ME: &str = "WK00000000000000000000000000000001";
    const OTHER: &str = "WK00000000000000000000000000000002";
    const C: &str = "CA000000000000000000000000000000c1";
    const A1: &str = "CA000000000000000000000000000000a1";
    const A2: &str = "CA000000000000000000000000000000a2";
    const B: &str = "CA000000000000000000000000000000b1";

    fn p(t: &str, status: &str, call: Option<&str>, worker: Option<&str>) -> Participant {
        Participant {
            participant_type: Some(t.into()),
            status: Some(status.into()),
            call_sid: call.map(Into::into),
            worker_sid: worker.map(Into::into),
            ..Default::default()
        }
    }

    fn conf(ps: Vec<Participant>) -> ConferenceSnapshot {
        ConferenceSnapshot {
            conference_sid: Some("CF00000000000000000000000000000001".into()),
            participants: ps,
        }
    }

    #[test]
    fn call_kinds() {
        let cases = [
            (r#"{"direction": "inbound"}"#, CallKind::Inbound),
            (r#"{}"#, CallKind::Inbound),
            (r#"{"direction": "outbound"}"#, CallKind::Outbound),
            (
                r#"{"client_call": true, "direction": "inbound"}"#,
                CallKind::InternalInbound,
            ),
            (
                r#"{"client_call": true, "direction": "outbound"}"#,
                CallKind::InternalOutbound,
            ),
            (
                r#"{"client_call": "true", "direction": "outbound"}"#,
                CallKind::InternalOutbound,
            ),
            (
                r#"{"client_call": false, "direction": "outbound"}"#,
                CallKind::Outbound,
            ),
            (r#"{"client_call": "false"}"#, CallKind::Inbound),
            ("not json", CallKind::Inbound),
        ];
        for (attrs, want) in cases {
            assert_eq!(call_kind(&*Attributes::parse(attrs)), want, "{attrs}");
        }
    }

    #[test]
    fn already_recorded_means_a_listed_media_entry() {
        let already_recorded = |text: &str| already_recorded(&*Attributes::parse(text));
        assert!(already_recorded(
            r#"{"conversations": {"media": [{"url": "x"}]}}"#
        ));
        assert!(!already_recorded(r#"{"conversations": {"media": []}}"#));
        assert!(!already_recorded(r#"{"conversations": {"media": null}}"#));
        assert!(!already_recorded(r#"{"conversations": {}}"#));
        assert!(!already_recorded("{}"));
    }

    #[test]
    fn leg_table() {
        let full = conf(vec![
            p("customer", "joined", Some(C), None),
            p("worker", "joined", Some(A1), Some(ME)),
        ]);
        let no_customer = conf(vec![p("worker", "joined", Some(A1), Some(ME))]);
        let customer_no_sid = conf(vec![
            p("customer", "joined", None, None),
            p("worker", "joined", Some(A1), Some(ME)),
        ]);
        let customer_left = conf(vec![
            p("customer", "left", Some(C), None),
            p("worker", "joined", Some(A1), Some(ME)),
        ]);
        let joined_again = conf(vec![
            p("customer", "joined", Some(C), None),
            p("worker", "left", Some(A1), Some(ME)),
            p("worker", "joined", Some(A2), Some(ME)),
        ]);
        let other_worker = conf(vec![
            p("customer", "joined", Some(C), None),
            p("worker", "joined", Some(B), Some(OTHER)),
        ]);
        let cust = |c: &str| {
            Some(Leg {
                call_sid: c.into(),
                kind: RecordedLeg::Customer,
            })
        };
        let work = |c: &str| {
            Some(Leg {
                call_sid: c.into(),
                kind: RecordedLeg::Worker,
            })
        };
        use CallKind::*;
        use Channel::{Customer as Cu, Worker as Wo};
        type Case<'a> = (
            &'a str,
            Channel,
            CallKind,
            Option<&'a ConferenceSnapshot>,
            Option<&'a str>,
            Option<Leg>,
        );
        let cases: Vec<Case> = vec![
            ("inbound customer", Cu, Inbound, Some(&full), None, cust(C)),
            ("no conference yet", Cu, Inbound, None, None, None),
            (
                "customer not there",
                Cu,
                Inbound,
                Some(&no_customer),
                None,
                None,
            ),
            (
                "customer sid missing",
                Cu,
                Inbound,
                Some(&customer_no_sid),
                None,
                None,
            ),
            (
                "customer left",
                Cu,
                Inbound,
                Some(&customer_left),
                None,
                None,
            ),
            ("inbound worker", Wo, Inbound, Some(&full), None, work(A1)),
            (
                "worker inbound without customer",
                Wo,
                Inbound,
                Some(&no_customer),
                None,
                work(A1),
            ),
            (
                "outbound worker waits for answer",
                Wo,
                Outbound,
                Some(&no_customer),
                None,
                None,
            ),
            (
                "outbound worker after answer",
                Wo,
                Outbound,
                Some(&full),
                None,
                work(A1),
            ),
            (
                "outbound customer waits",
                Cu,
                Outbound,
                Some(&no_customer),
                None,
                None,
            ),
            (
                "outbound customer answered",
                Cu,
                Outbound,
                Some(&full),
                None,
                cust(C),
            ),
            (
                "join call: newest joined leg",
                Wo,
                Inbound,
                Some(&joined_again),
                None,
                work(A2),
            ),
            (
                "join call: customer unchanged",
                Cu,
                Inbound,
                Some(&joined_again),
                None,
                cust(C),
            ),
            (
                "never another worker's leg",
                Wo,
                Inbound,
                Some(&other_worker),
                None,
                None,
            ),
            (
                "internal inbound never",
                Cu,
                InternalInbound,
                Some(&full),
                Some(B),
                None,
            ),
            (
                "internal outbound from active call",
                Cu,
                InternalOutbound,
                None,
                Some(B),
                work(B),
            ),
            (
                "internal outbound waits for call",
                Wo,
                InternalOutbound,
                None,
                None,
                None,
            ),
            (
                "internal outbound bad sid",
                Cu,
                InternalOutbound,
                None,
                Some("CAxyz"),
                None,
            ),
        ];
        for (name, channel, kind, conference, active, want) in cases {
            assert_eq!(
                recordable_leg(channel, kind, conference, active, ME),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn is_current_worker_flag_used_when_sid_missing() {
        let mut w = p("worker", "joined", Some(A1), None);
        w.is_current_worker = Some(true);
        assert_eq!(worker_leg(&conf(vec![w.clone()]), ME), Some(A1));
        w.is_current_worker = Some(false);
        assert_eq!(worker_leg(&conf(vec![w]), ME), None);
    }

    #[test]
    fn carrying_instance() {
        let full = conf(vec![
            p("customer", "joined", Some(C), None),
            p("worker", "joined", Some(A1), Some(ME)),
        ]);
        let customer = Leg {
            call_sid: C.into(),
            kind: RecordedLeg::Customer,
        };
        let worker = Leg {
            call_sid: A1.into(),
            kind: RecordedLeg::Worker,
        };
        assert!(carried_here(&customer, Some(&full), Some(A1), ME));
        assert!(carried_here(&worker, Some(&full), Some(A1), ME));
        assert!(!carried_here(&customer, Some(&full), None, ME));
        assert!(!carried_here(&worker, Some(&full), Some(A2), ME));
        assert!(carried_here(
            &Leg {
                call_sid: B.into(),
                kind: RecordedLeg::Worker
            },
            None,
            Some(B),
            ME
        ));
    }
}
