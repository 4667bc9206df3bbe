// Simulated Flex runtime: exactly the Flex UI surface the plugin uses
// (docs/flex-facts.md), with the same shapes, plus driver methods that
// tests, the replay runner and the demo page use to play what Flex and the
// agent do. Plain ES module without Node-only imports: it runs in Node (also
// inside a vm context, after esbuild turns it into an IIFE) and in a browser.

const DEFAULT_WORKER = 'WK00000000000000000000000000000001';
const DEFAULT_ACCOUNT = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

/** A small EventEmitter with the methods Flex's manager.events (Node's EventEmitter) has. */
export class Emitter {
  constructor(onError) {
    this._listeners = new Map();
    this._onError = onError || ((name, err) => console.error(`[flex-sim] ${name} listener failed:`, err));
  }
  addListener(name, fn) {
    if (typeof fn !== 'function') throw new TypeError(`listener for ${name} must be a function`);
    const list = this._listeners.get(name) || [];
    this._listeners.set(name, [...list, fn]);
    return this;
  }
  on(name, fn) { return this.addListener(name, fn); }
  once(name, fn) {
    const wrapper = (...args) => { this.removeListener(name, wrapper); return fn(...args); };
    wrapper.listener = fn;
    return this.addListener(name, wrapper);
  }
  removeListener(name, fn) {
    const list = this._listeners.get(name) || [];
    const i = list.findIndex((l) => l === fn || l.listener === fn);
    if (i >= 0) this._listeners.set(name, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }
  off(name, fn) { return this.removeListener(name, fn); }
  removeAllListeners(name) {
    if (name === undefined) this._listeners.clear();
    else this._listeners.delete(name);
    return this;
  }
  listenerCount(name) { return (this._listeners.get(name) || []).length; }
  /**
   * Calls every listener at once and waits until the promises they return
   * have settled, as Flex's Actions framework runs `before` and `after`
   * listeners (ActionsImpl.customEmit in @twilio/flex-ui 2.17.1:
   * Promise.all over the listeners' results, each rejection caught and
   * logged). The flex-project-template flushes its deferred task-attribute
   * updates in `beforeCompleteTask` this way; the plugin bounds how long its
   * `beforeAcceptTask` holds an accept. A failing listener is reported, not thrown.
   */
  async emitAwaited(name, ...args) {
    const list = this._listeners.get(name) || [];
    await Promise.all(list.map((fn) => {
      try {
        const r = fn(...args);
        return r && typeof r.then === 'function' ? Promise.resolve(r).then(undefined, (err) => this._onError(name, err)) : r;
      } catch (err) {
        this._onError(name, err);
        return undefined;
      }
    }));
    return list.length > 0;
  }
  emit(name, ...args) {
    const list = this._listeners.get(name) || [];
    for (const fn of list) {
      try {
        const r = fn(...args);
        if (r && typeof r.then === 'function') r.then(undefined, (err) => this._onError(name, err));
      } catch (err) {
        this._onError(name, err);
      }
    }
    return list.length > 0;
  }
}

/** A Redux-like store: getState / subscribe / dispatch, immutable updates. */
function createStore(initialState) {
  let state = initialState;
  let listeners = [];
  const reducers = [];
  const notify = () => {
    for (const l of listeners.slice()) {
      try { l(); } catch (err) { console.error('[flex-sim] store listener failed:', err); }
    }
  };
  return {
    getState: () => state,
    subscribe(listener) {
      if (typeof listener !== 'function') throw new TypeError('store listener must be a function');
      listeners = [...listeners, listener];
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        listeners = listeners.filter((l) => l !== listener);
      };
    },
    dispatch(action) {
      if (!action || typeof action.type !== 'string') throw new TypeError('actions must be objects with a string type');
      for (const reduce of reducers) state = reduce(state, action);
      notify();
      return action;
    },
    /** Harness only: replace the state with `fn(state)` and notify, as a dispatch would. */
    _update(fn) {
      state = fn(state);
      notify();
    },
    _addReducer(reduce) { reducers.push(reduce); },
    _listenerCount: () => listeners.length,
  };
}

function makeParticipant(p, currentWorkerSid) {
  const isCurrentWorker = p.participantType === 'worker' && !!p.workerSid && p.workerSid === currentWorkerSid;
  const participant = {
    participantType: p.participantType,
    status: p.status,
    isCurrentWorker,
    isMyself: isCurrentWorker,
    onHold: false,
    muted: false,
    connecting: false,
  };
  if (p.callSid !== undefined) participant.callSid = p.callSid;
  if (p.workerSid !== undefined) participant.workerSid = p.workerSid;
  if (p.reservationSid !== undefined) participant.reservationSid = p.reservationSid;
  return participant;
}

function makeConference(conferenceSid, participants, currentWorkerSid) {
  const list = participants.map((p) => makeParticipant(p, currentWorkerSid));
  const live = list.filter((p) => p.status === 'joined');
  const liveWorkers = live.filter((p) => p.participantType === 'worker');
  return {
    conferenceSid,
    status: live.length > 0 ? 'active' : (list.length > 0 ? 'closed' : 'setup'),
    participants: list,
    liveParticipantCount: live.length,
    liveWorkerCount: liveWorkers.length,
    liveWorkers,
  };
}

function toDate(value) {
  if (value instanceof Date) return value;
  if (value === undefined || value === null) return new Date();
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid dateUpdated: ${value}`);
  return d;
}

/**
 * Create one simulated Flex instance (one browser tab of one worker).
 * @param {object} options
 * @param {object} [options.customData] manager.configuration.custom_data
 * @param {string} [options.workerSid] the logged-in worker
 * @param {object} [options.workerAttributes] the worker's TaskRouter attributes (manager.workerClient.attributes)
 * @param {string} [options.accountSid]
 * @param {string} [options.token] manager.user.token (the Flex token)
 * @param {string} [options.identity]
 * @param {string[]} [options.roles] manager.user.roles (Flex's roles: `agent`, `supervisor`, `admin`)
 * @param {string} [options.locale] manager.localization.localeTag
 * @param {(task: object) => any} [options.onJoinCall] what task.joinCall() does (default: nothing)
 * @param {boolean} [options.callRecordingEnabled] Flex's own Call Recording (manager.serviceConfiguration.call_recording_enabled)
 * @param {object} [options.actions] Flex's own Actions (tests/harness/real-flex-actions.mjs) in place
 *   of this simulator's: the actions below are played through it, their bodies given with replaceAction
 */
export function createFlex(options = {}) {
  const {
    customData = {},
    workerSid = DEFAULT_WORKER,
    workerAttributes = {},
    accountSid = DEFAULT_ACCOUNT,
    token = 'flex-token',
    identity = `worker_${workerSid}`,
    roles = ['agent'],
    locale = 'en-US',
    onJoinCall,
    callRecordingEnabled = false,
    actions: flexActions,
  } = options;

  const shown = [];
  const errors = [];
  const reportError = (where, err) => {
    errors.push({ where, message: String(err && err.message ? err.message : err) });
    console.error(`[flex-sim] ${where} failed:`, err);
  };

  // ---- Redux store --------------------------------------------------------
  const store = createStore({
    flex: {
      conferences: { states: new Map() },
      phone: { activeCall: null },
      worker: {
        source: { sid: workerSid, accountSid, attributes: workerAttributes },
        tasks: new Map(),
      },
      session: { identity, loginState: 'LOGGED_IN' },
      view: { tick: 0 },
    },
  });
  // An action Flex dispatches that changes nothing the plugin follows.
  store._addReducer((state, action) => (action.type === 'FLEX_SIM/UNRELATED'
    ? { ...state, flex: { ...state.flex, view: { ...state.flex.view, tick: state.flex.view.tick + 1 } } }
    : state));
  const setBranch = (key, value) => store._update((s) => ({ ...s, flex: { ...s.flex, [key]: value } }));

  // ---- Manager ------------------------------------------------------------
  const events = new Emitter((name, err) => reportError(`manager.events ${name} listener`, err));
  const reservations = new Map();
  const manager = {
    events,
    store,
    configuration: { custom_data: customData },
    user: { token, identity, roles: [...roles] },
    workerClient: { sid: workerSid, accountSid, reservations, attributes: workerAttributes },
    localization: { localeTag: locale },
    serviceConfiguration: { call_recording_enabled: callRecordingEnabled === true },
  };

  // ---- Actions ------------------------------------------------------------
  const actionListeners = new Emitter((name, err) => reportError(`Actions ${name} listener`, err));
  const defaultActions = new Map();
  // Flex's own Actions framework when given (options.actions), else this one.
  const Actions = flexActions || {
    addListener(name, fn) { actionListeners.addListener(name, fn); },
    removeListener(name, fn) { actionListeners.removeListener(name, fn); },
    /**
     * A new action other plugins and buttons can invoke, as Flex's
     * `Actions.registerAction(name, action)`; a name already taken is refused.
     */
    registerAction(name, impl) {
      if (typeof name !== 'string' || typeof impl !== 'function') throw new TypeError('registerAction needs a name and a function');
      if (defaultActions.has(name)) throw new Error(`action ${name} is already registered`);
      defaultActions.set(name, impl);
    },
    /**
     * Runs `before<Name>` listeners, waiting for any promise they return (as
     * Flex does: a before-listener can hold an action, so the plugin must
     * bound how long), the action itself (awaited: its promise is the
     * action's), then `after<Name>`.
     */
    async invokeAction(name, payload = {}) {
      let aborted = false;
      const abort = () => { aborted = true; };
      await actionListeners.emitAwaited(`before${name}`, payload, abort);
      if (aborted) return undefined;
      const impl = defaultActions.get(name);
      const result = impl ? await impl(payload) : undefined;
      await actionListeners.emitAwaited(`after${name}`, payload, abort);
      return result;
    },
  };

  // ---- Notifications ------------------------------------------------------
  const registered = new Map();
  const Notifications = {
    registeredNotifications: registered,
    registerNotification(notification) {
      if (!notification || typeof notification.id !== 'string') throw new TypeError('registerNotification needs an id');
      registered.set(notification.id, { ...notification });
    },
    showNotification(id, context) {
      shown.push({ id, context, registered: registered.has(id), at: Date.now() });
      if (!registered.has(id)) console.warn(`[flex-sim] showNotification(${id}): not registered`);
      return registered.get(id) || null;
    },
    /** Flex's `dismissNotificationById`: every showing of that id is gone. */
    dismissNotificationById(id) {
      for (const n of shown) if (n.id === id) n.dismissed = true;
    },
  };
  const NotificationType = { error: 'error', warning: 'warning', info: 'info', success: 'success' };

  const TaskHelper = {
    isCallTask: (task) => !!task && task.taskChannelUniqueName === 'voice',
    isOutboundCallTask: (task) => !!task && task.taskChannelUniqueName === 'voice'
      && !!task.attributes && task.attributes.direction === 'outbound',
  };

  // ---- Plugins ------------------------------------------------------------
  const plugins = [];
  const Plugins = {
    init(PluginClass) {
      let plugin;
      try {
        plugin = new PluginClass();
      } catch (err) {
        reportError('plugin constructor', err);
        return undefined;
      }
      plugins.push(plugin);
      let result;
      try {
        result = plugin.init(flex, manager);
      } catch (err) {
        reportError('plugin init', err);
      }
      Promise.resolve(result).then(
        () => events.emit('pluginsInitialized'),
        (err) => { reportError('plugin init', err); events.emit('pluginsInitialized'); },
      );
      return plugin;
    },
  };

  const flex = {
    Plugins,
    Actions,
    Notifications,
    NotificationType,
    TaskHelper,
    Manager: { getInstance: () => manager },
  };

  // ---- tasks --------------------------------------------------------------
  const tasks = new Map(); // taskSid -> ITask, same objects as in the store

  // flex.worker.tasks is keyed by reservation SID (WR...), as @twilio/flex-ui's
  // WorkerState declares it ("map of active tasks by reservation SID");
  // flex.conferences.states is keyed by task SID (WT...).
  function publishTasks() {
    const worker = store.getState().flex.worker;
    const byReservation = new Map();
    for (const task of tasks.values()) byReservation.set(task.sid, task);
    setBranch('worker', { ...worker, tasks: byReservation });
  }

  function requireTask(taskSid) {
    const task = tasks.get(taskSid);
    if (!task) throw new Error(`no task ${taskSid} in this Flex instance`);
    return task;
  }

  defaultActions.set('HangupCall', () => undefined);
  // What AcceptTask's body would send to TaskRouter with the accept: the
  // conference options as the before-listeners left them. The accepted
  // reservation itself is played by `acceptTask`, in every tab of the worker.
  const acceptOptions = new Map(); // taskSid -> {options, written}
  // Flex's own payload update for AcceptTask sets
  // `conferenceOptions.conferenceRecord` from `call_recording_enabled` before
  // the before-listeners run (@twilio/flex-ui 2.17.1,
  // WorkerActions.updateAcceptTaskPayload). "Left unset" therefore means no
  // listener wrote it: this first listener (registered before any plugin
  // loads) watches for writes by the ones after it.
  const acceptWatch = new WeakMap(); // payload -> () => written
  Actions.addListener('beforeAcceptTask', (payload) => {
    if (!payload || typeof payload !== 'object') return;
    const target = payload.conferenceOptions && typeof payload.conferenceOptions === 'object' ? payload.conferenceOptions : {};
    let written = false;
    const watched = new Proxy(target, {
      set(t, key, value) { if (key === 'conferenceRecord') written = true; t[key] = value; return true; },
      deleteProperty(t, key) { if (key === 'conferenceRecord') written = true; delete t[key]; return true; },
    });
    payload.conferenceOptions = watched;
    acceptWatch.set(payload, () => written || payload.conferenceOptions !== watched);
  });
  defaultActions.set('AcceptTask', (payload) => {
    const { task, conferenceOptions } = payload;
    const written = acceptWatch.get(payload);
    if (task && task.taskSid) acceptOptions.set(task.taskSid, { options: conferenceOptions, written: written ? written() : true });
  });
  defaultActions.set('CompleteTask', ({ task }) => {
    if (!task || !tasks.has(task.taskSid)) return;
    task.status = 'completed';
    task.taskStatus = 'completed';
    task.dateUpdated = new Date();
    tasks.delete(task.taskSid);
    reservations.delete(task.sid);
    removeConference(task.taskSid);
    publishTasks();
    events.emit('taskCompleted', task);
  });

  function removeConference(taskSid) {
    const states = store.getState().flex.conferences.states;
    if (!states.has(taskSid)) return;
    const next = new Map(states);
    next.delete(taskSid);
    setBranch('conferences', { ...store.getState().flex.conferences, states: next });
  }

  /** The reservation is accepted: the task enters Flex state and taskAccepted fires. */
  function acceptTask(spec) {
    if (!spec || !spec.taskSid || !spec.sid) throw new Error('acceptTask needs taskSid and sid');
    const attributes = spec.attributes ? JSON.parse(JSON.stringify(spec.attributes)) : {};
    const task = {
      sid: spec.sid,
      taskSid: spec.taskSid,
      status: 'accepted',
      taskStatus: 'assigned',
      attributes,
      queueName: spec.queueName,
      queueSid: spec.queueSid,
      taskChannelUniqueName: spec.channel || 'voice',
      dateCreated: toDate(spec.dateUpdated),
      dateUpdated: toDate(spec.dateUpdated),
      workerSid,
      conference: undefined,
      joinCall() {
        return Promise.resolve(onJoinCall ? onJoinCall(task) : undefined);
      },
    };
    tasks.set(task.taskSid, task);
    reservations.set(task.sid, {
      sid: task.sid,
      status: 'accepted',
      workerSid,
      task: {
        sid: task.taskSid,
        attributes,
        queueName: task.queueName,
        queueSid: task.queueSid,
        taskChannelUniqueName: task.taskChannelUniqueName,
        status: 'assigned',
      },
    });
    publishTasks();
    events.emit('taskAccepted', task);
    return task;
  }

  /**
   * The agent accepts a reservation in this tab: the AcceptTask action runs
   * with `{task, sid, conferenceOptions: {}}` (the ITask still `pending`),
   * its before-listeners awaited. Resolves to the `conferenceRecord` the
   * listeners left (`null`: none of them set it, so Flex's own setting
   * applies). Then call `acceptTask` (every tab).
   */
  async function invokeAcceptTask(spec) {
    if (!spec || !spec.taskSid || !spec.sid) throw new Error('invokeAcceptTask needs taskSid and sid');
    const task = {
      sid: spec.sid,
      taskSid: spec.taskSid,
      status: 'pending',
      taskStatus: 'reserved',
      attributes: spec.attributes ? JSON.parse(JSON.stringify(spec.attributes)) : {},
      queueName: spec.queueName,
      queueSid: spec.queueSid,
      taskChannelUniqueName: spec.channel || 'voice',
      dateCreated: toDate(spec.dateUpdated),
      dateUpdated: toDate(spec.dateUpdated),
      workerSid,
      conference: undefined,
    };
    acceptOptions.delete(spec.taskSid);
    await Actions.invokeAction('AcceptTask', { task, sid: spec.sid, conferenceOptions: {} });
    const seen = acceptOptions.get(spec.taskSid);
    const options = seen && seen.options;
    const value = seen && seen.written && options && typeof options === 'object' ? options.conferenceRecord : undefined;
    return { conferenceRecord: value === undefined ? null : value };
  }

  /** The task's conference now looks like this, in the store and on task.conference. */
  function setConference(taskSid, conferenceSid, participants = []) {
    const conference = makeConference(conferenceSid, participants, workerSid);
    const task = tasks.get(taskSid);
    if (task) task.conference = conference;
    const states = new Map(store.getState().flex.conferences.states);
    states.set(taskSid, { source: conference });
    store._update((s) => {
      const flexState = { ...s.flex, conferences: { ...s.flex.conferences, states } };
      if (task) flexState.worker = { ...s.flex.worker, tasks: new Map(s.flex.worker.tasks) };
      return { ...s, flex: flexState };
    });
    return conference;
  }

  /** This instance's Voice SDK call (flex.phone.activeCall), or none. */
  function setActiveCall(callSid) {
    const phone = store.getState().flex.phone;
    setBranch('phone', { ...phone, activeCall: callSid ? { parameters: { CallSid: callSid } } : null });
  }

  /**
   * `flex.Actions.invokeAction(name, payload)` as another plugin or a button
   * would; a `taskSid` naming a task of this instance brings its ITask along.
   * Resolves with `{ok, value}` or `{ok: false, error}`: a rejected action is
   * an outcome, not a driver failure.
   */
  async function invokeAction(name, payload = {}) {
    const full = { ...payload };
    if (typeof full.taskSid === 'string' && tasks.has(full.taskSid) && full.task === undefined) full.task = tasks.get(full.taskSid);
    try {
      return { ok: true, value: await Actions.invokeAction(name, full) };
    } catch (err) {
      return { ok: false, error: err && err.message ? err.message : String(err), errorName: err && err.name ? err.name : undefined };
    }
  }

  function hangup(taskSid) {
    return Actions.invokeAction('HangupCall', { task: requireTask(taskSid) });
  }

  function complete(taskSid) {
    return Actions.invokeAction('CompleteTask', { task: requireTask(taskSid) });
  }

  /**
   * The call ended for the agent: the reservation and the task go to
   * wrap-up, as TaskRouter reports them (`wrapping`), and taskWrapup fires.
   * Already wrapping: nothing happens (Flex reports each change once).
   */
  function wrapup(taskSid) {
    const task = requireTask(taskSid);
    if (task.status === 'wrapping') return;
    task.status = 'wrapping';
    task.taskStatus = 'wrapping';
    task.dateUpdated = new Date();
    const reservation = reservations.get(task.sid);
    if (reservation) {
      reservations.set(task.sid, { ...reservation, status: 'wrapping', task: { ...reservation.task, status: 'wrapping' } });
    }
    publishTasks();
    events.emit('taskWrapup', task);
  }

  /** The reservation disappears (canceled, timed out, rescinded) and taskCanceled fires. */
  function cancel(taskSid) {
    const task = requireTask(taskSid);
    task.status = 'canceled';
    task.taskStatus = 'canceled';
    task.dateUpdated = new Date();
    tasks.delete(taskSid);
    reservations.delete(task.sid);
    removeConference(taskSid);
    publishTasks();
    events.emit('taskCanceled', task);
  }

  /** A store change that touches nothing the plugin follows. */
  function unrelatedChange() {
    store.dispatch({ type: 'FLEX_SIM/UNRELATED' });
  }

  // Flex's own bodies of these actions talk to Twilio (the Voice SDK call, the
  // TaskRouter reservation): with Flex's Actions the simulator's bodies
  // replace them (`replaceAction`, as a plugin does), and Flex still runs
  // its payload update functions and the before/after listeners.
  if (flexActions) {
    for (const [name, impl] of defaultActions) flexActions.replaceAction(name, async (payload) => impl(payload));
  }

  return {
    flex,
    manager,
    workerSid,
    identity,
    /** Publish this Flex on `globalObj.Twilio.Flex`, as Flex does on window. */
    install(globalObj) {
      const g = globalObj || globalThis;
      g.Twilio = g.Twilio || {};
      g.Twilio.Flex = flex;
      return g;
    },
    acceptTask,
    invokeAcceptTask,
    setConference,
    setActiveCall,
    hangup,
    complete,
    wrapup,
    invokeAction,
    cancel,
    unrelatedChange,
    getTask: (taskSid) => tasks.get(taskSid),
    taskSids: () => [...tasks.keys()],
    plugins: () => plugins.slice(),
    errors: () => errors.slice(),
    /** Every notification id shown so far, in order (repeats included). */
    notificationsShown: () => shown.map((n) => n.id),
    /**
     * The notification ids on screen now: shown, not dismissed, and within
     * their registered `timeout` (ms; 0 or none: until dismissed).
     */
    notificationsCurrent: (now = Date.now()) => shown
      .filter((n) => {
        if (n.dismissed) return false;
        const timeout = (registered.get(n.id) || {}).timeout;
        return !(timeout > 0) || now - n.at < timeout;
      })
      .map((n) => n.id),
  };
}
