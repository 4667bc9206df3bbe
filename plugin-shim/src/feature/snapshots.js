// @ts-check
/**
 * Plain snapshots of Flex objects for the core. No decisions here: these copy
 * the fields the core reads (src/snapshot.rs) and nothing else.
 */

/**
 * @param {import('@twilio/flex-ui').ITask} task
 */
export function taskSnapshot(task) {
  const updated = task.dateUpdated instanceof Date ? task.dateUpdated.valueOf() : Date.parse(String(task.dateUpdated));
  return {
    taskSid: task.taskSid,
    sid: task.sid,
    queueName: task.queueName,
    queueSid: task.queueSid,
    channel: task.taskChannelUniqueName,
    // The object Flex holds, as it is: the core looks values up in it
    // (src/wasm/lookup.rs) and fails closed on one it cannot read.
    attributes: task.attributes,
    dateUpdated: Number.isFinite(updated) ? updated : null,
  };
}

/**
 * @param {any} conference a Flex `Conference` (store `source` or `task.conference`)
 */
export function conferenceSnapshot(conference) {
  if (!conference) return null;
  const participants = Array.isArray(conference.participants) ? conference.participants : [];
  return {
    conferenceSid: conference.conferenceSid ?? null,
    participants: participants.map((/** @type {any} */ p) => ({
      participantType: p?.participantType ?? null,
      status: p?.status ?? null,
      callSid: p?.callSid ?? null,
      workerSid: p?.workerSid ?? null,
      reservationSid: p?.reservationSid ?? null,
      isCurrentWorker: typeof p?.isCurrentWorker === 'boolean' ? p.isCurrentWorker : null,
    })),
  };
}
