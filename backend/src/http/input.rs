//! What each endpoint acts on, made from the wire type its body decoded
//! into (`http::body`): every SID parsed once, here, into its type (the
//! core's `sid::Sid`), so nothing below checks a SID again; an empty
//! optional field is as good as an absent one (HTML forms and
//! `URLSearchParams` send `x=` for unset values); a missing or blank token
//! is 401, checked first.

use crate::error::AppError;
use crate::twilio::RecordingParent;
use dual_channel_recording::api::{
    AuthorizeRequest, ControlAction, CreateRecordingRequest, LinkCallRequest, PauseBehavior,
    RecordingControlRequest, TargetKind,
};
use dual_channel_recording::insights::{MediaTarget, RecordedLeg};
use dual_channel_recording::sid::kind::Kind;
use dual_channel_recording::sid::{
    CallSid, ConferenceSid, NotASid, RecordingSid, ReservationSid, Sid, TaskSid,
};

fn token(token: String) -> Result<String, AppError> {
    if token.trim().is_empty() {
        Err(AppError::MissingToken)
    } else {
        Ok(token)
    }
}

fn sid<K: Kind>(field: &str, value: &str) -> Result<Sid<K>, AppError> {
    Sid::parse(value).map_err(|NotASid(kind)| {
        AppError::InvalidInput(format!(
            "{field} must be a {} followed by 32 hex digits",
            kind.label()
        ))
    })
}

fn optional_sid<K: Kind>(field: &str, value: Option<String>) -> Result<Option<Sid<K>>, AppError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| sid(field, &v))
        .transpose()
}

/// A create-recording request.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateInput {
    pub call_sid: CallSid,
    pub token: String,
    pub task_sid: Option<TaskSid>,
    pub reservation_sid: Option<ReservationSid>,
    pub leg: Option<RecordedLeg>,
    pub target: Option<MediaTarget>,
    pub accepted_at: Option<i64>,
    pub conference_sid: Option<ConferenceSid>,
    pub customer_call_sid: Option<CallSid>,
}

impl TryFrom<CreateRecordingRequest> for CreateInput {
    type Error = AppError;

    fn try_from(r: CreateRecordingRequest) -> Result<Self, AppError> {
        let token = token(r.token)?;
        let call_sid = sid("callSid", &r.call_sid)?;
        let task_sid: Option<TaskSid> = optional_sid("taskSid", r.task_sid)?;
        let reservation_sid: Option<ReservationSid> =
            optional_sid("reservationSid", r.reservation_sid)?;
        let conference_sid = optional_sid("conferenceSid", r.conference_sid)?;
        let customer_call_sid = optional_sid("customerCallSid", r.customer_call_sid)?;
        let target = match r.target {
            None => None,
            Some(kind) => {
                if task_sid.is_none() {
                    return Err(AppError::InvalidInput(format!(
                        "target {} needs taskSid: the media entry is written to that task",
                        kind.as_str()
                    )));
                }
                Some(match kind {
                    TargetKind::Conversation => MediaTarget::Conversation,
                    TargetKind::Reservation => MediaTarget::Reservation(
                        reservation_sid
                            .as_ref()
                            .ok_or_else(|| {
                                AppError::InvalidInput(
                                    "target reservation needs reservationSid (WR...)".into(),
                                )
                            })?
                            .to_string(),
                    ),
                })
            }
        };
        Ok(CreateInput {
            call_sid,
            token,
            task_sid,
            reservation_sid,
            leg: r.leg,
            target,
            accepted_at: r.accepted_at,
            conference_sid,
            customer_call_sid,
        })
    }
}

/// A link-call request: at least one of the conference and the customer's call.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkInput {
    pub token: String,
    pub task_sid: TaskSid,
    pub conference_sid: Option<ConferenceSid>,
    pub customer_call_sid: Option<CallSid>,
}

impl TryFrom<LinkCallRequest> for LinkInput {
    type Error = AppError;

    fn try_from(r: LinkCallRequest) -> Result<Self, AppError> {
        let token = token(r.token)?;
        let task_sid = sid("taskSid", &r.task_sid)?;
        let conference_sid = optional_sid("conferenceSid", r.conference_sid)?;
        let customer_call_sid = optional_sid("customerCallSid", r.customer_call_sid)?;
        if conference_sid.is_none() && customer_call_sid.is_none() {
            return Err(AppError::InvalidInput(
                "nothing to link: give conferenceSid, customerCallSid or both".into(),
            ));
        }
        Ok(LinkInput {
            token,
            task_sid,
            conference_sid,
            customer_call_sid,
        })
    }
}

/// An authorize-ahead request.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizeInput {
    pub token: String,
    pub task_sid: TaskSid,
    pub reservation_sid: ReservationSid,
}

impl TryFrom<AuthorizeRequest> for AuthorizeInput {
    type Error = AppError;

    fn try_from(r: AuthorizeRequest) -> Result<Self, AppError> {
        Ok(AuthorizeInput {
            token: token(r.token)?,
            task_sid: sid("taskSid", &r.task_sid)?,
            reservation_sid: sid("reservationSid", &r.reservation_sid)?,
        })
    }
}

/// A pause, resume or state request: every place a recording of the task
/// may run, the plugin's leg first (see `RecordingControlRequest`).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlInput {
    pub token: String,
    pub task_sid: TaskSid,
    /// At least one, no two alike.
    pub parents: Vec<RecordingParent>,
    pub pause_behavior: Option<PauseBehavior>,
    /// A resume of exactly these (what the plugin's pauses paused).
    pub recording_sids: Option<Vec<RecordingSid>>,
}

impl ControlInput {
    pub fn new(r: RecordingControlRequest, action: ControlAction) -> Result<Self, AppError> {
        let token = token(r.token)?;
        let task_sid = sid("taskSid", &r.task_sid)?;
        let call_sid = optional_sid("callSid", r.call_sid)?;
        let conference_sid = optional_sid("conferenceSid", r.conference_sid)?;
        let customer_call_sid = optional_sid("customerCallSid", r.customer_call_sid)?;
        let mut parents: Vec<RecordingParent> = Vec::new();
        let named = call_sid
            .map(RecordingParent::Call)
            .into_iter()
            .chain(conference_sid.map(RecordingParent::Conference))
            .chain(customer_call_sid.map(RecordingParent::Call));
        for parent in named {
            if !parents.contains(&parent) {
                parents.push(parent);
            }
        }
        if parents.is_empty() {
            return Err(AppError::InvalidInput(
                "name callSid (a recorded call leg), conferenceSid (the task's conference) or customerCallSid (the customer's call)".into(),
            ));
        }
        if r.pause_behavior.is_some() && action != ControlAction::Pause {
            return Err(AppError::InvalidInput(
                "pauseBehavior applies to pausing only".into(),
            ));
        }
        let recording_sids = match r.recording_sids.filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(_) if action != ControlAction::Resume => {
                return Err(AppError::InvalidInput(
                    "recordingSids applies to resuming only".into(),
                ))
            }
            Some(list) => Some(
                list.split(',')
                    .map(|s| sid("recordingSids", s.trim()))
                    .collect::<Result<Vec<RecordingSid>, _>>()?,
            ),
        };
        Ok(ControlInput {
            token,
            task_sid,
            parents,
            pause_behavior: r.pause_behavior,
            recording_sids,
        })
    }
}
