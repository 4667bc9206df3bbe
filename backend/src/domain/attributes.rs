//! Task attribute writes: read with the ETag, merge with the shared rules of
//! `dual_channel_recording::insights`, write with `If-Match`, and on 412 read
//! again and merge again. Everything anyone else wrote stays, because every
//! write is a merge onto the revision it replaces.

use crate::twilio::{TaskSnapshot, TaskWrite, TwilioClient, TwilioError};
use dual_channel_recording::insights::{parse_attributes, MergeError, ParseError};
use dual_channel_recording::sid::TaskSid;
use serde_json::Value;

/// Longest task attributes TaskRouter accepts: 4096 characters of JSON text
/// (TaskRouter's published "Resource configuration limits", which cannot be
/// raised; `docs/flex-facts.md`, "TaskRouter facts"). Counted in
/// characters of the text we send (minified), not bytes. A write that would
/// be longer is never sent: nothing is shortened or dropped to make room.
pub const TASK_ATTRIBUTES_MAX_CHARS: usize = 4096;

/// Conditional writes tried before giving up on a task that keeps changing.
pub const MAX_WRITE_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteProblem {
    #[error("the task no longer exists")]
    TaskGone,
    #[error(transparent)]
    Unreadable(#[from] ParseError),
    #[error(transparent)]
    Blocked(#[from] MergeError),
    #[error(
        "the task attributes would be {chars} characters long with it, over TaskRouter's limit of {limit} characters for task attributes; nothing was written"
    )]
    TooLarge { chars: usize, limit: usize },
    #[error("Twilio gave no revision (ETag) for the task, so it cannot be written safely")]
    NoRevision,
    #[error(
        "the task kept changing; {MAX_WRITE_ATTEMPTS} conditional writes met a newer revision"
    )]
    KeptChanging,
    #[error("{0}")]
    Twilio(TwilioError),
}

pub struct Applied<T> {
    pub value: T,
    /// A write was made (false when the attributes already said it all).
    pub wrote: bool,
    /// The attributes as written (or as found, when nothing was written).
    pub attributes: Value,
}

/// Applies `change` to the task's attributes and writes them if it changed
/// anything. `first` is a read the caller already made (reused, so one
/// request costs one read); later attempts read again. `change` returns
/// whether it changed the document, and a value for the caller.
pub async fn update<T>(
    twilio: &TwilioClient,
    task_sid: &TaskSid,
    mut first: Option<TaskSnapshot>,
    mut change: impl FnMut(&mut Value) -> Result<(bool, T), MergeError>,
) -> Result<Applied<T>, WriteProblem> {
    for attempt in 1..=MAX_WRITE_ATTEMPTS {
        let snapshot = match first.take() {
            Some(s) => s,
            None => twilio
                .fetch_task(task_sid)
                .await
                .map_err(WriteProblem::Twilio)?
                .ok_or(WriteProblem::TaskGone)?,
        };
        let mut attributes: Value = parse_attributes(&snapshot.attributes)?;
        let (changed, value) = change(&mut attributes)?;
        if !changed {
            return Ok(Applied {
                value,
                wrote: false,
                attributes,
            });
        }
        let text = serde_json::to_string(&attributes)
            .map_err(|e| WriteProblem::Unreadable(ParseError::Invalid(e.to_string())))?;
        let chars = text.chars().count();
        if chars > TASK_ATTRIBUTES_MAX_CHARS {
            return Err(WriteProblem::TooLarge {
                chars,
                limit: TASK_ATTRIBUTES_MAX_CHARS,
            });
        }
        let etag = snapshot.etag.as_deref().ok_or(WriteProblem::NoRevision)?;
        match twilio
            .update_task_attributes(task_sid, etag, &text)
            .await
            .map_err(WriteProblem::Twilio)?
        {
            TaskWrite::Written => {
                return Ok(Applied {
                    value,
                    wrote: true,
                    attributes,
                })
            }
            TaskWrite::Stale => {
                tracing::info!(
                    task = %task_sid,
                    attempt,
                    "task changed since it was read; reading it again"
                );
            }
        }
    }
    Err(WriteProblem::KeptChanging)
}
