// Benchmark-only baseline: how the flex-project-template's dual-channel-recording
// feature finds the leg to record. On taskAccepted it polls every 100 ms
// (setInterval, up to 60 s) until the task's conference shows this worker and
// the customer, both with call SIDs (falling back to the store's conference
// state when task.conference lacks them), then POSTs callSid and the Flex
// token to the recording endpoint. Written here from the template's
// waitForConferenceParticipants / recordExternalCall logic; only what decides
// WHEN the request leaves is mirrored. The template's second round trip (the
// task attribute update) is not sent: bench 1 times the first request only.
// `taskSid` is added to the form so that a strict backend accepts it.
(() => {
  const WAIT_MS = 100;
  const MAX_WAIT_MS = 60000;

  class BaselinePollingPlugin {
    constructor() { this.name = 'BaselinePollingPlugin'; }

    init(flex, manager) {
      const custom = (manager.configuration && manager.configuration.custom_data) || {};
      const base = `${custom.serverless_functions_protocol || 'https'}://${custom.serverless_functions_domain}`;
      const url = `${base}/features/dual-channel-recording/flex/create-recording`;

      const isTaskActive = (task) => {
        if (task.taskStatus === 'canceled') return false;
        return manager.workerClient.reservations.has(task.sid);
      };

      const waitForConferenceParticipants = (task) => new Promise((resolve) => {
        let interval = setInterval(() => {
          const { conference } = task;
          if (!isTaskActive(task)) {
            clearInterval(interval);
            interval = null;
            return;
          }
          if (conference === undefined) return;
          let { participants } = conference;
          if (Array.isArray(participants) && participants.length < 2) return;
          const worker = participants.find((p) => p.participantType === 'worker' && p.isCurrentWorker);
          const customer = participants.find((p) => p.participantType === 'customer');
          if (!worker || !customer) return;
          if (!worker.callSid || !customer.callSid) {
            const stored = manager.store.getState().flex.conferences.states.get(task.taskSid);
            if (!stored || !stored.source) return;
            participants = stored.source.participants;
            const w = participants.find((p) => p.participantType === 'worker' && p.isCurrentWorker);
            const c = participants.find((p) => p.participantType === 'customer');
            if (!w || !w.callSid || !c || !c.callSid) return;
          }
          clearInterval(interval);
          interval = null;
          resolve(participants);
        }, WAIT_MS);
        setTimeout(() => {
          if (interval) {
            clearInterval(interval);
            interval = null;
            resolve([]);
          }
        }, MAX_WAIT_MS);
      });

      manager.events.addListener('taskAccepted', async (task) => {
        if (!flex.TaskHelper.isCallTask(task)) return;
        const participants = await waitForConferenceParticipants(task);
        const leg = participants.find((p) => p.participantType === 'customer');
        if (!leg || !leg.callSid) return;
        const body = new URLSearchParams({ callSid: leg.callSid, Token: manager.user.token, taskSid: task.taskSid });
        try {
          await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body.toString() });
        } catch (err) {
          console.error('baseline: request failed', err);
        }
      });
    }
  }

  window.Twilio.Flex.Plugins.init(BaselinePollingPlugin);
})();
