//! Authorization: which calls a valid Flex token may record.
//!
//! The template lets any valid token of the account record any call. Here, by
//! default (`AUTHORIZATION=strict`), the token's worker must hold a live
//! reservation on the task ([`may_act`]: `accepted` while the call runs,
//! `wrapping` in wrap-up), and the call must belong to that task: the task's
//! `call_sid`, a joined participant of the task's conference, or the worker's
//! own client leg (`client:` + the token's identity). Each check that needs
//! Twilio runs only when the cheaper ones did not already decide.
//!
//! Known limit: when the task's attributes name no conference, the conference
//! given in the request is used (an outbound call started in Flex has none
//! yet). A worker with a live reservation on one task could then name
//! another task's conference; Twilio's Participant resource does not say which
//! task a conference belongs to, so this cannot be closed without another
//! lookup.

use crate::domain::auth::Identity;
use crate::error::AppError;
use crate::twilio::{Participant, Reservation, TaskSnapshot, TwilioClient};
use dual_channel_recording::attributes::parse_value;
use dual_channel_recording::leg;
use dual_channel_recording::sid::{CallSid, ConferenceSid, ReservationSid, TaskSid, WorkerSid};

/// The reservation statuses that let a worker record its legs and link the
/// conference: `accepted` while the call runs and `wrapping` once it ended
/// (TaskRouter's reservation lifecycle: Flex completes a voice task from
/// wrap-up, so `beforeCompleteTask` runs while the reservation is
/// `wrapping`). `pending`, `rejected`, `timeout`, `canceled`, `rescinded` and
/// `completed` do not: the worker no longer (or never) holds the task.
pub fn may_act(reservation_status: Option<&str>) -> bool {
    matches!(reservation_status, Some("accepted") | Some("wrapping"))
}

/// Whether a participant Twilio answered for is still in the conference:
/// Twilio's participant statuses end in `complete` (it left) or `failed`
/// (it never joined), and a fetch made as it leaves can still find it so.
pub fn in_conference(participant: Option<&Participant>) -> bool {
    participant.is_some_and(|p| !matches!(p.status.as_deref(), Some("complete") | Some("failed")))
}

/// The worker's live reservations on the task, and the task as read (the
/// read is reused for the attribute write, so its ETag is the one we write on).
pub struct TaskAccess {
    pub reservations: Vec<Reservation>,
    pub task: TaskSnapshot,
}

/// The token's worker: a token of no worker holds no task.
pub fn worker_of(identity: &Identity) -> Result<&WorkerSid, AppError> {
    identity.worker_sid.as_ref().ok_or_else(|| {
        AppError::Forbidden(
            "the Flex token belongs to no TaskRouter worker, so it cannot record calls of a task"
                .into(),
        )
    })
}

fn status_of(r: &Reservation) -> &str {
    r.reservation_status.as_deref().unwrap_or("unknown")
}

/// The call and the conference the task's attributes name, read through the
/// core's `Lookup` as the plugin reads them; unreadable attributes name
/// neither.
fn task_call(task: &TaskSnapshot) -> (Option<CallSid>, Option<ConferenceSid>) {
    let attributes = parse_value(&task.attributes).unwrap_or_default();
    (
        leg::task_call(&attributes).and_then(|c| c.parse().ok()),
        leg::task_conference(&attributes).and_then(|c| c.parse().ok()),
    )
}

/// The token's worker must hold a live reservation ([`may_act`]) on
/// `task_sid`; when `reservation_sid` is named, that one (fetched alone),
/// otherwise any of the worker's reservations on the task.
pub async fn task_access(
    twilio: &TwilioClient,
    identity: &Identity,
    task_sid: &TaskSid,
    reservation_sid: Option<&ReservationSid>,
) -> Result<TaskAccess, AppError> {
    let worker = worker_of(identity)?;
    let reservations = async {
        match reservation_sid {
            Some(wr) => twilio
                .fetch_reservation(task_sid, wr)
                .await
                .map(|r| r.into_iter().collect::<Vec<_>>()),
            None => twilio.worker_reservations(task_sid, worker).await,
        }
    };
    let (reservations, task) = tokio::join!(reservations, twilio.fetch_task(task_sid));
    let task = AppError::task_read(task_sid, task)?;
    let reservations =
        reservations.map_err(|e| AppError::from_twilio("checking the worker's reservation", e))?;
    if let Some(wr) = reservation_sid {
        let Some(r) = reservations.first() else {
            return Err(AppError::Forbidden(format!(
                "reservation {wr} is not a reservation of task {task_sid}"
            )));
        };
        if r.worker_sid.as_deref() != Some(worker.as_str()) {
            return Err(AppError::Forbidden(format!(
                "reservation {wr} of task {task_sid} belongs to another worker than {worker}"
            )));
        }
        if !may_act(r.reservation_status.as_deref()) {
            return Err(AppError::Forbidden(format!(
                "reservation {wr} of worker {worker} on task {task_sid} is {}; only an accepted or wrapping reservation may record or link calls",
                status_of(r)
            )));
        }
    }
    let live: Vec<Reservation> = reservations
        .iter()
        .filter(|r| may_act(r.reservation_status.as_deref()))
        .cloned()
        .collect();
    if live.is_empty() {
        let seen: Vec<String> = reservations
            .iter()
            .map(|r| format!("{} is {}", r.sid, status_of(r)))
            .collect();
        return Err(AppError::Forbidden(if seen.is_empty() {
            format!("worker {worker} holds no accepted or wrapping reservation on task {task_sid}")
        } else {
            format!(
                "worker {worker} holds no accepted or wrapping reservation on task {task_sid} ({})",
                seen.join(", ")
            )
        }));
    }
    // Only a call task has call legs to record; a chat task held by the
    // worker must not serve as the ticket to record someone's call.
    if let Some(channel) = task.channel.as_deref() {
        if channel != "voice" {
            return Err(AppError::Forbidden(format!(
                "task {task_sid} is a {channel} task, not a voice call: it has no call to record or link"
            )));
        }
    }
    Ok(TaskAccess {
        reservations: live,
        task,
    })
}

/// The call must be part of the task (see the module comment).
pub async fn call_belongs_to_task(
    twilio: &TwilioClient,
    identity: &Identity,
    task_sid: &TaskSid,
    task: &TaskSnapshot,
    call_sid: &CallSid,
    requested_conference: Option<&ConferenceSid>,
) -> Result<(), AppError> {
    let (task_call, conference_attr) = task_call(task);
    if task_call.as_ref() == Some(call_sid) {
        return Ok(());
    }
    let conference = conference_attr.as_ref().or(requested_conference);
    if let Some(cf) = conference {
        let participant = twilio
            .fetch_participant(cf, call_sid)
            .await
            .map_err(|e| AppError::from_twilio("checking the conference participant", e))?;
        if in_conference(participant.as_ref()) {
            return Ok(());
        }
    }
    if let Some(identity_name) = identity.identity.as_deref() {
        let call = twilio
            .fetch_call(call_sid)
            .await
            .map_err(|e| AppError::from_twilio("reading the call", e))?;
        if let Some(call) = call {
            let own = format!("client:{identity_name}");
            if call.to.as_deref() == Some(own.as_str())
                || call.from.as_deref() == Some(own.as_str())
            {
                return Ok(());
            }
        }
    }
    Err(AppError::Forbidden(format!(
        "call {call_sid} is neither the call of task {task_sid}, nor in its conference, nor this worker's own call"
    )))
}

/// The conference belongs to the task: the task names it, or the task's call
/// is one of its participants.
pub async fn conference_belongs_to_task(
    twilio: &TwilioClient,
    task_sid: &TaskSid,
    task: &TaskSnapshot,
    conference_sid: &ConferenceSid,
) -> Result<(), AppError> {
    let (task_call, task_conference) = task_call(task);
    if task_conference.as_ref() == Some(conference_sid) {
        return Ok(());
    }
    if let Some(call) = task_call {
        let participant = twilio
            .fetch_participant(conference_sid, &call)
            .await
            .map_err(|e| AppError::from_twilio("checking the conference participant", e))?;
        if participant.is_some() {
            return Ok(());
        }
    }
    Err(AppError::Forbidden(format!(
        "conference {conference_sid} is not the conference of task {task_sid}"
    )))
}

/// The customer's call SID a request asks to write as the task's `call_sid`,
/// kept only when Twilio shows it in the conference being linked: a later
/// request trusts `call_sid` as the task's call, so the browser's word alone
/// must never put it there (strict authorization).
pub async fn verified_customer_call(
    twilio: &TwilioClient,
    conference_sid: Option<&ConferenceSid>,
    customer_call_sid: Option<&CallSid>,
) -> Result<Option<CallSid>, AppError> {
    let (Some(cf), Some(ca)) = (conference_sid, customer_call_sid) else {
        return Ok(None);
    };
    let participant = twilio
        .fetch_participant(cf, ca)
        .await
        .map_err(|e| AppError::from_twilio("checking the customer's call in the conference", e))?;
    let live = in_conference(participant.as_ref());
    if !live {
        tracing::info!(conference = %cf, call = %ca, "customerCallSid is not in the conference: call_sid is not written");
    }
    Ok(live.then(|| ca.clone()))
}

#[cfg(test)]
mod tests {
    use super::may_act;

    #[test]
    fn every_reservation_status() {
        let cases = [
            (Some("accepted"), true),
            (Some("wrapping"), true),
            (Some("pending"), false),
            (Some("completed"), false),
            (Some("canceled"), false),
            (Some("rescinded"), false),
            (Some("timeout"), false),
            (Some("rejected"), false),
            (Some("Accepted"), false),
            (Some(""), false),
            (None, false),
        ];
        for (status, want) in cases {
            assert_eq!(may_act(status), want, "{status:?}");
        }
    }
}
