// @ts-check
/**
 * The dual-channel recording feature in Flex: turns Flex events and store
 * changes into plain events for the Rust core and gives the core what it asks
 * for (token, notification, logs). Every decision is the core's.
 *
 * Two promises to agents: nothing here ever throws into Flex, and nothing
 * here delays an action such as accepting, hanging up or completing a task,
 * with two bounded exceptions: completing a task whose backend request is
 * still on its way waits for it, at most the core's `COMPLETE_HOLD_MS` (3 s);
 * an accept while the core is still loading waits for it at most
 * `accept_wait_ms` (beforeAcceptTask below), then goes ahead.
 */
import { log } from './logger.js';
import { conferenceSnapshot, taskSnapshot } from './snapshots.js';
import { startPause } from './pause.js';

/** @typedef {import('@twilio/flex-ui').Manager} Manager */
/** @typedef {typeof import('@twilio/flex-ui')} Flex */
/** @typedef {import('@twilio/flex-ui').ITask} ITask */
/** @typedef {{ taskSid: string, callSid: string, recordingSid: string, alreadyRecording: boolean }} RecordingStarted */
/** @typedef {typeof import('../generated/core.js').Engine} EngineClass the Rust core's wasm-bindgen class */
/** @typedef {import('@twilio/flex-ui/src/actions/WorkerActions').WorkerAcceptTaskActionPayload} AcceptTaskPayload */

/*
 * Values src/config.rs defines too (FEATURE_KEY, DEFAULT_ACCEPT_WAIT_MS,
 * MAX_ACCEPT_WAIT_MS): the shim needs them before the core has loaded, so
 * they cannot come from it. plugin-shim/test/shared-values.test.mjs fails
 * when the two drift apart.
 */
/** The feature's key in `custom_data.features`. */
export const FEATURE_KEY = 'dual_channel_recording';
/** The plugin's own block in `custom_data`; when present, `features.*` is not read. */
export const OWN_BLOCK = 'plugin_dual_channel_recording';
/** `accept_wait_ms` when unset, and its largest accepted value. */
export const DEFAULT_ACCEPT_WAIT_MS = 200;
export const MAX_ACCEPT_WAIT_MS = 1000;

/**
 * The raw `accept_wait_ms` (of the own block when present, else of the
 * template's key), clamped: it is needed before the core exists, which
 * validates it with the rest of the configuration (and reports it with its
 * path) once loaded. A worker's `config_overrides` of it are not seen here,
 * only by the core: this wait is over in the first moments after Flex starts.
 * @param {Manager} manager
 */
function acceptWaitMs(manager) {
  /** @type {any} */
  const customData = manager.configuration?.custom_data;
  const own = customData?.[OWN_BLOCK];
  const feature = own != null ? own : customData?.features?.[FEATURE_KEY];
  const raw = feature && typeof feature === 'object' ? feature.accept_wait_ms : undefined;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) return DEFAULT_ACCEPT_WAIT_MS;
  return Math.min(Math.max(Math.floor(raw), 0), MAX_ACCEPT_WAIT_MS);
}

/**
 * @param {Flex} flex
 * @param {Manager} manager
 * @param {() => Promise<{ Engine: EngineClass }>} loadCore compiles and instantiates the wasm core
 * @returns the API other plugins can use
 */
export function startFeature(flex, manager, loadCore) {
  /** @type {InstanceType<EngineClass> | null} */
  let engine = null;
  let dead = false;
  /** @type {string[]} */
  let followed = [];
  /** @type {object[]} events that arrived before the core was ready */
  const queued = [];
  /** @type {Set<(e: RecordingStarted) => void>} */
  const recordingListeners = new Set();
  /** @type {(() => void) | null} */
  let unsubscribe = null;
  /** @type {Set<string>} notification ids registered with Flex */
  const notificationRegistered = new Set();

  // Last seen references: a store notification that changed none of them costs
  // only these comparisons (Redux state is immutable).
  /** @type {unknown} */ let lastActiveCall;
  /** @type {unknown} */ let lastStates;
  /** @type {unknown} */ let lastTasks;
  /** @type {Map<string, unknown>} */ const lastConference = new Map();

  const flexState = () => manager.store.getState()?.flex;

  /**
   * A trap in the core, or a core that cannot load, makes the feature inert;
   * Flex goes on untouched. Logged once; agents are shown nothing.
   * @param {unknown} error
   * @param {string} [why]
   */
  function goInert(error, why = 'the recording core stopped; calls are not recorded until Flex is reloaded.') {
    if (dead) return;
    dead = true;
    engine = null;
    queued.length = 0;
    if (unsubscribe) unsubscribe();
    log('error', why, error);
  }

  /**
   * An event object goes to the core as it is: the core reads the fields it
   * needs, and a task's attributes where Flex holds them.
   * @param {object} event
   */
  function forward(event) {
    if (dead) return;
    if (!engine) {
      queued.push(event);
      return;
    }
    try {
      engine.handle(event);
    } catch (error) {
      goInert(error);
    }
  }

  /**
   * Flex keys `worker.tasks` by reservation SID; the core follows task SIDs.
   * @param {Map<string, ITask> | undefined} tasks
   * @returns {Map<string, ITask>} task SID -> ITask
   */
  function byTaskSid(tasks) {
    const map = new Map();
    if (tasks && typeof tasks.values === 'function') {
      for (const task of tasks.values()) if (task?.taskSid) map.set(task.taskSid, task);
    }
    return map;
  }
  /** @type {Map<string, ITask>} */ let tasksByTaskSid = new Map();
  /** @type {unknown} */ let indexedTasks;

  /** The worker's tasks by task SID, re-indexed only when the store's map changed. */
  function currentTasks() {
    const tasks = flexState()?.worker?.tasks;
    if (tasks !== indexedTasks) {
      indexedTasks = tasks;
      tasksByTaskSid = byTaskSid(tasks);
    }
    return tasksByTaskSid;
  }

  /** @param {string} taskSid */
  function conferenceOf(taskSid) {
    const stored = flexState()?.conferences?.states?.get?.(taskSid);
    if (stored) return stored;
    const task = currentTasks().get(taskSid);
    return task?.conference ? { source: task.conference } : undefined;
  }

  /** @param {string} taskSid */
  function sendConference(taskSid) {
    const current = conferenceOf(taskSid);
    lastConference.set(taskSid, current);
    forward({ type: 'conference', taskSid, conference: conferenceSnapshot(current?.source) });
  }

  function onStoreChange() {
    if (dead || !engine) return;
    const state = flexState();
    const activeCall = state?.phone?.activeCall;
    if (activeCall !== lastActiveCall) {
      lastActiveCall = activeCall;
      forward({ type: 'activeCall', callSid: activeCall?.parameters?.CallSid ?? null });
    }
    if (followed.length === 0) return;
    const states = state?.conferences?.states;
    const tasks = state?.worker?.tasks;
    const tasksChanged = tasks !== lastTasks;
    lastTasks = tasks;
    if (states !== lastStates || tasksChanged) {
      lastStates = states;
      for (const taskSid of followed) {
        if (conferenceOf(taskSid) !== lastConference.get(taskSid)) sendConference(taskSid);
      }
    }
    if (tasksChanged && tasks) {
      for (const taskSid of followed) {
        if (!currentTasks().has(taskSid)) forward({ type: 'ended', taskSid, reason: 'removed' });
      }
    }
  }

  /** @type {Set<string>} the administrators' notices already shown */
  const adminNotices = new Set();
  const host = {
    /** @param {'debug'|'info'|'warn'|'error'} level @param {string} message */
    log(level, message) {
      log(level, message);
    },
    /** @param {string} id @param {string} text */
    notify(id, text) {
      if (!notificationRegistered.has(id)) {
        notificationRegistered.add(id);
        flex.Notifications.registerNotification({
          id,
          content: text,
          type: flex.NotificationType?.error ?? 'error',
          closeButton: true,
          timeout: 0,
        });
      }
      flex.Notifications.showNotification(id);
    },
    /**
     * Shown once, to users whose Flex roles include `admin` (agents see nothing).
     * @param {string} id @param {string} text
     */
    notifyAdmins(id, text) {
      const roles = manager.user?.roles;
      if (!Array.isArray(roles) || !roles.includes('admin') || adminNotices.has(id)) return;
      adminNotices.add(id);
      flex.Notifications.registerNotification({
        id,
        content: text,
        type: flex.NotificationType?.warning ?? 'warning',
        closeButton: true,
        timeout: 0,
      });
      flex.Notifications.showNotification(id);
    },
    /** @param {string[]} taskSids */
    follow(taskSids) {
      const fresh = taskSids.filter((t) => !followed.includes(t));
      followed = taskSids;
      for (const t of [...lastConference.keys()]) if (!followed.includes(t)) lastConference.delete(t);
      // A conference that already exists when a task is accepted raises no
      // store change of its own: send it now, after the current event.
      if (fresh.length) queueMicrotask(() => fresh.forEach((t) => followed.includes(t) && sendConference(t)));
    },
    token() {
      return manager.user?.token ?? '';
    },
    /** @param {string} taskSid @param {string} callSid @param {string} recordingSid @param {boolean} alreadyRecording */
    recordingStarted(taskSid, callSid, recordingSid, alreadyRecording) {
      for (const listener of recordingListeners) {
        try {
          listener({ taskSid, callSid, recordingSid, alreadyRecording: alreadyRecording === true });
        } catch (error) {
          log('warn', 'a recordingStarted listener threw', error);
        }
      }
    },
  };

  /** Wraps a Flex listener so that it never throws into Flex and never returns a promise. */
  const guard =
    (/** @type {(arg?: any) => void} */ fn) =>
    (/** @type {any} */ arg = undefined) => {
      try {
        fn(arg);
      } catch (error) {
        log('error', 'ignored a Flex event the plugin could not read', error);
      }
    };

  manager.events.addListener(
    'taskAccepted',
    guard((task) => forward({ type: 'taskAccepted', task: taskSnapshot(task) })),
  );
  manager.events.addListener(
    'taskCanceled',
    guard((task) => forward({ type: 'ended', taskSid: task?.taskSid, reason: 'canceled' })),
  );
  manager.events.addListener(
    'taskCompleted',
    guard((task) => forward({ type: 'ended', taskSid: task?.taskSid, reason: 'completed' })),
  );
  flex.Actions.addListener(
    'beforeHangupCall',
    guard((payload) => forward({ type: 'hangup', taskSid: payload?.task?.taskSid })),
  );
  // Wrap-up also starts when the customer hangs up (no beforeHangupCall):
  // the core treats it as the end of the worker's part, once.
  manager.events.addListener(
    'taskWrapup',
    guard((task) => forward({ type: 'hangup', taskSid: task?.taskSid })),
  );
  /**
   * Flex waits for a `beforeCompleteTask` listener's promise before it
   * completes the task, and TaskRouter completes the reservation right after;
   * a recording start or conference link still in flight then would be
   * refused. The core says whether (and how long, at most) to hold; the
   * promise never rejects.
   * @param {string | undefined} taskSid
   * @returns {Promise<void> | undefined}
   */
  function holdComplete(taskSid) {
    if (dead || !engine || typeof taskSid !== 'string') return undefined;
    const current = engine;
    const holdMs = current.completeHoldMs(taskSid);
    if (!(holdMs > 0)) return undefined;
    const until = Date.now() + holdMs;
    return new Promise((resolve) => {
      const poll = () => {
        let pending = false;
        try {
          pending = !dead && engine === current && current.requestPending(taskSid);
        } catch (error) {
          goInert(error);
        }
        if (pending && Date.now() < until) setTimeout(poll, 25);
        else resolve();
      };
      setTimeout(poll, 25);
    });
  }

  flex.Actions.addListener('beforeCompleteTask', (/** @type {any} */ payload) => {
    try {
      const taskSid = payload?.task?.taskSid;
      forward({ type: 'complete', taskSid });
      return holdComplete(taskSid);
    } catch (error) {
      log('error', 'ignored a Flex event the plugin could not read', error);
      return undefined;
    }
  });
  // Flex's own Call Recording, once at start: the core decides whether to warn.
  forward({ type: 'flexCallRecording', enabled: manager.serviceConfiguration?.call_recording_enabled === true });

  const ready = loadCore().then(
    ({ Engine }) => {
      if (dead) return false;
      try {
        const state = flexState();
        const workerSid = manager.workerClient?.sid ?? state?.worker?.source?.sid ?? '';
        const locale = manager.localization?.localeTag ?? globalThis.navigator?.language ?? 'en-US';
        const customData = manager.configuration?.custom_data ?? {};
        // The core merges the worker's config_overrides and decides who is told what.
        const worker = { attributes: manager.workerClient?.attributes, roles: manager.user?.roles };
        engine = new Engine(customData, workerSid, locale, Math.random(), host, worker);
        if (!engine.enabled()) {
          queued.length = 0;
          engine = null;
          dead = true;
          return false;
        }
        unsubscribe = manager.store.subscribe(guard(onStoreChange));
        onStoreChange();
        // What Flex said while the core was compiling, in order.
        for (const event of queued.splice(0)) {
          engine.handle(event);
        }
        return true;
      } catch (error) {
        goInert(error);
        return false;
      }
    },
    (error) => {
      goInert(error, 'could not load the recording core (WebAssembly); calls are not recorded. Flex works as usual.');
      return false;
    },
  );

  /**
   * The conference method's decision into `payload.conferenceOptions`; the
   * core answers null (leave it) for non-voice tasks and the call-leg method.
   * @param {AcceptTaskPayload} payload
   */
  function decideAccept(payload) {
    if (!engine) return;
    // Flex fills `task` in; `sid` (the reservation) is the documented alternative.
    const task = payload.task ?? (payload.sid ? flexState()?.worker?.tasks?.get?.(payload.sid) : undefined);
    if (!task) return;
    let answer;
    try {
      answer = engine.beforeAccept(taskSnapshot(task));
    } catch (error) {
      goInert(error);
      return;
    }
    if (typeof answer?.conferenceRecord !== 'boolean') return;
    if (!payload.conferenceOptions || typeof payload.conferenceOptions !== 'object') payload.conferenceOptions = {};
    payload.conferenceOptions.conferenceRecord = answer.conferenceRecord;
  }

  const acceptWait = acceptWaitMs(manager);

  /**
   * Settles when the core is ready or after `ms`, whichever comes first; never rejects.
   * @param {number} ms
   * @returns {Promise<void>}
   */
  function coreOrTimeout(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      ready.then(() => { clearTimeout(timer); resolve(); });
    });
  }

  let warnedNotReady = false;
  /**
   * beforeAcceptTask. Flex awaits the promise a before-listener returns, so
   * one is returned only while the core is loading; it settles within
   * `accept_wait_ms` and never rejects. Nothing is thrown into Flex.
   * @param {AcceptTaskPayload} payload
   * @returns {Promise<void> | undefined}
   */
  function beforeAcceptTask(payload) {
    try {
      if (dead || !payload) return undefined;
      if (engine) {
        decideAccept(payload);
        return undefined;
      }
      const notReady = () => {
        // Once: every accept while the core loads would say the same.
        if (warnedNotReady) return;
        warnedNotReady = true;
        const taskSid = payload.task?.taskSid ?? payload.sid ?? 'a task';
        log('warn', `the recording core was not ready within accept_wait_ms (${acceptWait} ms): Flex's conference recording was left as configured for ${taskSid}`);
      };
      if (acceptWait === 0) {
        notReady();
        return undefined;
      }
      return coreOrTimeout(acceptWait).then(() => {
        try {
          if (engine) decideAccept(payload);
          else if (!dead) notReady();
        } catch (error) {
          log('error', 'beforeAcceptTask: the recording decision failed; Flex\'s conference recording was left as configured', error);
        }
      });
    } catch (error) {
      log('error', 'beforeAcceptTask: the recording decision failed; Flex\'s conference recording was left as configured', error);
      return undefined;
    }
  }
  flex.Actions.addListener('beforeAcceptTask', beforeAcceptTask);
  // Registered now, at plugin init, as Flex expects; they wait for the core.
  const pause = startPause(flex, manager, () => engine, ready);

  return {
    ...pause,
    /** Settles when the core is loaded: true when it records, false when inert. */
    ready,
    /** No backend request or retry in flight. */
    idle() {
      if (dead) return true;
      if (!engine) return false;
      try {
        return engine.idle();
      } catch (error) {
        goInert(error);
        return true;
      }
    },
    /** @param {string} taskSid */
    status(taskSid) {
      try {
        return engine ? engine.status(taskSid) : { state: 'unknown', recordings: [] };
      } catch (error) {
        goInert(error);
        return { state: 'unknown', recordings: [] };
      }
    },
    /** @param {(e: RecordingStarted) => void} listener @returns {() => void} unsubscribe */
    onRecordingStarted(listener) {
      recordingListeners.add(listener);
      return () => recordingListeners.delete(listener);
    },
  };
}
