//! TaskRouter (`taskrouter.twilio.com`): tasks (read with their revision,
//! written with `If-Match`), reservations and workers.

use super::{is_not_found, parse, Repeat, TwilioClient, TwilioError};
use dual_channel_recording::sid::{ReservationSid, TaskSid, WorkerSid};
use reqwest::header::{ETAG, IF_MATCH};
use reqwest::StatusCode;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct Reservation {
    pub sid: String,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub reservation_status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReservationPage {
    #[serde(default)]
    reservations: Vec<Reservation>,
}

#[derive(Debug, Deserialize)]
struct TaskIn {
    attributes: String,
    #[serde(default)]
    task_queue_sid: Option<String>,
    #[serde(default)]
    task_queue_friendly_name: Option<String>,
    #[serde(default)]
    task_channel_unique_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WorkerIn {
    #[serde(default)]
    attributes: Option<String>,
}

/// A task as read: its attributes (still the raw JSON text) and the revision to
/// write against.
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    pub attributes: String,
    pub etag: Option<String>,
    /// What the recording policy's `exclude_queues` compares with.
    pub queue_sid: Option<String>,
    pub queue_name: Option<String>,
    /// `voice`, `chat`, ...
    pub channel: Option<String>,
}

/// Outcome of a conditional task write.
pub enum TaskWrite {
    Written,
    /// 412: someone else wrote since our read.
    Stale,
}

impl TwilioClient {
    /// The worker's reservations on the task, in any status (the caller
    /// decides which statuses count).
    pub async fn worker_reservations(
        &self,
        task_sid: &TaskSid,
        worker_sid: &WorkerSid,
    ) -> Result<Vec<Reservation>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}/Reservations",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("list reservations", Repeat::Safe, || {
                self.http
                    .get(&url)
                    .query(&[("WorkerSid", worker_sid.as_str()), ("PageSize", "50")])
            })
            .await?;
        let page: ReservationPage = parse(&Self::ok_or_api(reply)?, "list reservations")?;
        // Filtered by Twilio already; checked again so that a proxy or a
        // misbehaving peer ignoring the filter cannot widen access.
        Ok(page
            .reservations
            .into_iter()
            .filter(|r| r.worker_sid.as_deref() == Some(worker_sid.as_str()))
            .collect())
    }

    /// One reservation of the task; `None` when the task has no such reservation.
    pub async fn fetch_reservation(
        &self,
        task_sid: &TaskSid,
        reservation_sid: &ReservationSid,
    ) -> Result<Option<Reservation>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}/Reservations/{reservation_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("fetch reservation", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        parse(&Self::ok_or_api(reply)?, "fetch reservation").map(Some)
    }

    /// `None` when the task does not exist.
    pub async fn fetch_task(
        &self,
        task_sid: &TaskSid,
    ) -> Result<Option<TaskSnapshot>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("fetch task", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        let reply = Self::ok_or_api(reply)?;
        let etag = reply
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let task: TaskIn = parse(&reply, "fetch task")?;
        Ok(Some(TaskSnapshot {
            attributes: task.attributes,
            etag,
            queue_sid: task.task_queue_sid,
            queue_name: task.task_queue_friendly_name,
            channel: task.task_channel_unique_name,
        }))
    }

    /// `GET /v1/Workspaces/{WS}/Workers/{WK}`: the worker's attributes (JSON
    /// text, as TaskRouter keeps them); `None` when there is no such worker.
    pub async fn fetch_worker_attributes(
        &self,
        worker_sid: &WorkerSid,
    ) -> Result<Option<String>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Workers/{worker_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("fetch worker", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        let worker: WorkerIn = parse(&Self::ok_or_api(reply)?, "fetch worker")?;
        Ok(Some(worker.attributes.unwrap_or_else(|| "{}".into())))
    }

    /// Writes the attributes only if the task is still at `etag`.
    pub async fn update_task_attributes(
        &self,
        task_sid: &TaskSid,
        etag: &str,
        attributes: &str,
    ) -> Result<TaskWrite, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        // Repeating a conditional write is harmless: if the first one landed,
        // the repeat meets 412 and the caller's re-read finds its entry there.
        let reply = self
            .send("update task", Repeat::Safe, || {
                self.http
                    .post(&url)
                    .header(IF_MATCH, etag)
                    .form(&[("Attributes", attributes)])
            })
            .await?;
        if reply.status == StatusCode::PRECONDITION_FAILED {
            return Ok(TaskWrite::Stale);
        }
        Self::ok_or_api(reply).map(|_| TaskWrite::Written)
    }
}
