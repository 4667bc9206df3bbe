// @ts-check
/**
 * Pause and resume in Flex: the template's actions (PauseCallRecording,
 * ResumeCallRecording, ToggleCallRecording) and this plugin's earlier names,
 * the template's keyboard shortcuts, the Pause/Resume button in the call
 * canvas and the optional banner. The
 * core decides what is paused and the backend asks Twilio; here we only
 * forward and show what Twilio answered.
 */
import { controlFailureLevel, log } from './logger.js';

/** The flex-project-template's names: its button, its shortcuts and other plugins call these. */
export const PAUSE_ACTION = 'PauseCallRecording';
export const RESUME_ACTION = 'ResumeCallRecording';
export const TOGGLE_ACTION = 'ToggleCallRecording';
/** This plugin's earlier names, kept as aliases. */
export const PAUSE_ALIAS = 'PauseDualChannelRecording';
export const RESUME_ALIAS = 'ResumeDualChannelRecording';
/** The template's keyboard shortcuts, one use a second. */
const SHORTCUT_THROTTLE_MS = 1000;
/**
 * How often a visible button re-reads the state, so every tab shows a pause
 * made in another within that time.
 */
const STATE_POLL_MS = 5000;

/** @typedef {{ state: string, recordings: { recordingSid: string, status: string }[] }} RecordingState */
/** @typedef {{ enabled: boolean, indicatorBanner: boolean, indicatorPermanent: boolean, notificationId: string, texts: { pause: string, resume: string, toggle: string, pausedBanner: string } }} PauseUi */

/**
 * @param {any} flex
 * @param {any} manager
 * @param {() => any} getEngine the loaded core, or null when recording is off
 * @param {Promise<boolean>} ready settles when the core is loaded
 */
export function startPause(flex, manager, getEngine, ready) {
  /** @type {Set<(taskSid: string, state: RecordingState) => void>} */
  const listeners = new Set();
  const locale = manager?.localization?.localeTag ?? globalThis.navigator?.language ?? 'en-US';

  /**
   * @param {'pause'|'resume'|'toggle'|'state'} action
   * @param {any} payload `{taskSid}` or `{task}`
   * @returns {Promise<RecordingState>}
   */
  async function control(action, payload) {
    const taskSid = payload?.taskSid ?? payload?.task?.taskSid;
    if (typeof taskSid !== 'string' || taskSid === '') {
      throw new Error(`${action}: the payload must name the task ({taskSid} or {task})`);
    }
    await ready;
    const engine = getEngine();
    if (!engine) throw new Error('call recording is off in this Flex window, so nothing is recorded to pause or resume');
    const state = await engine.control(taskSid, action);
    for (const listener of listeners) {
      try {
        listener(taskSid, state);
      } catch (error) {
        log('warn', 'a recording state listener threw', error);
      }
    }
    return state;
  }

  // Flex: `Actions.registerAction(name, action)` registers a named action;
  // `invokeAction(name, payload)` runs it and returns a Promise
  // (https://www.twilio.com/docs/flex/developer/ui/use-ui-actions).
  // Flex's registerAction replaces an action of the same name without a
  // word, so a name another plugin (the template's pause_recording) holds is
  // left to it; ours stay under the aliases.
  /** @type {[string, 'pause'|'resume'|'toggle'][]} */
  const names = [[PAUSE_ACTION, 'pause'], [RESUME_ACTION, 'resume'], [TOGGLE_ACTION, 'toggle']];
  const taken = names.filter(([name]) => isRegistered(flex, name)).map(([name]) => name);
  if (taken.length) {
    log('warn', `${taken.join(', ')} already registered by another plugin (the flex-project-template's pause_recording?): left to it; this plugin's are ${PAUSE_ALIAS} and ${RESUME_ALIAS}`);
  }
  /** @type {[string, 'pause'|'resume'|'toggle'][]} */
  const ours = [...names.filter(([name]) => !taken.includes(name)), [PAUSE_ALIAS, 'pause'], [RESUME_ALIAS, 'resume']];
  for (const [name, action] of ours) {
    try {
      flex.Actions.registerAction(name, (/** @type {any} */ payload) => control(action, payload));
    } catch (error) {
      log('warn', `could not register the ${name} action`, error);
    }
  }

  ready.then(() => {
    const engine = getEngine();
    if (!engine) return;
    /** @type {PauseUi | null} */
    let ui = null;
    try {
      ui = engine.pauseUi(locale);
    } catch (error) {
      log('warn', 'could not read the pause settings', error);
    }
    if (!ui) return;
    if (ui.indicatorBanner) startBanner(flex, ui, listeners);
    if (ui.enabled) {
      addButton(flex, ui, control, listeners);
      addShortcuts(flex, manager, ui, ours.map(([name, action]) => ({ name, action })));
    }
  }, () => {});

  return {
    /** @param {string} taskSid */
    pause: (taskSid) => control('pause', { taskSid }),
    /** @param {string} taskSid */
    resume: (taskSid) => control('resume', { taskSid }),
    /** @param {string} taskSid */
    toggle: (taskSid) => control('toggle', { taskSid }),
    /** @param {string} taskSid */
    recordingState: (taskSid) => control('state', { taskSid }),
    /** @param {(taskSid: string, state: RecordingState) => void} listener @returns {() => void} */
    onRecordingState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Whether Flex already holds an action of this name. Flex keeps them in a
 * Map it does not publish (`Actions.actions`); a host without it says no.
 * @param {any} flex @param {string} name
 */
function isRegistered(flex, name) {
  const actions = flex.Actions?.actions;
  try {
    return typeof actions?.has === 'function' && actions.has(name) === true;
  } catch {
    return false;
  }
}

/**
 * The template's keyboard shortcuts on the task in focus: 2 toggles, 3
 * pauses, 4 resumes (through the actions, so another plugin's listeners run).
 * @param {any} flex @param {any} manager @param {PauseUi} ui
 * @param {{ name: string, action: string }[]} ours the actions registered here
 */
function addShortcuts(flex, manager, ui, ours) {
  const add = flex.KeyboardShortcutManager?.addShortcuts;
  if (typeof add !== 'function') return;
  /** @param {string} action */
  const nameOf = (action) => ours.find((a) => a.action === action)?.name;
  /** @param {string} action */
  const run = (action) => () => {
    const name = nameOf(action);
    const taskSid = manager?.store?.getState?.()?.flex?.view?.selectedTaskSid;
    if (!name || typeof taskSid !== 'string') return;
    flex.Actions.invokeAction(name, { taskSid })
      .catch((/** @type {unknown} */ error) => log('warn', `${name} (keyboard shortcut) failed`, error));
  };
  try {
    add.call(flex.KeyboardShortcutManager, {
      2: { action: run('toggle'), name: ui.texts.toggle, throttle: SHORTCUT_THROTTLE_MS },
      3: { action: run('pause'), name: ui.texts.pause, throttle: SHORTCUT_THROTTLE_MS },
      4: { action: run('resume'), name: ui.texts.resume, throttle: SHORTCUT_THROTTLE_MS },
    });
  } catch (error) {
    log('warn', 'could not add the pause keyboard shortcuts', error);
  }
}

/**
 * The banner while a recording is paused: a Flex notification that stays
 * until the recording resumes (`indicator_permanent`) or times out.
 * @param {any} flex @param {PauseUi} ui @param {Set<Function>} listeners
 */
function startBanner(flex, ui, listeners) {
  try {
    flex.Notifications.registerNotification({
      id: ui.notificationId,
      content: ui.texts.pausedBanner,
      type: flex.NotificationType?.warning ?? 'warning',
      closeButton: !ui.indicatorPermanent,
      timeout: ui.indicatorPermanent ? 0 : 8000,
    });
  } catch (error) {
    log('warn', 'could not register the paused-recording banner', error);
    return;
  }
  // Shown while any task of this worker is paused, not only the last one read.
  /** @type {Set<string>} */
  const pausedTasks = new Set();
  listeners.add((/** @type {string} */ taskSid, /** @type {RecordingState} */ state) => {
    const before = pausedTasks.size > 0;
    if (state.state === 'paused') pausedTasks.add(taskSid);
    else pausedTasks.delete(taskSid);
    const after = pausedTasks.size > 0;
    if (after && !before) flex.Notifications.showNotification(ui.notificationId);
    if (!after && before) flex.Notifications.dismissNotificationById?.(ui.notificationId);
  });
}

/**
 * The Pause/Resume button in the call canvas. It shows what Twilio says
 * (read through the backend on mount, after each click and every few
 * seconds), so every tab of the worker shows the same state.
 * @param {any} flex @param {PauseUi} ui
 * @param {(action: 'pause'|'resume'|'state', payload: any) => Promise<RecordingState>} control
 * @param {Set<Function>} listeners
 */
function addButton(flex, ui, control, listeners) {
  // Flex's own React, the global Flex sets (as build.mjs maps `react`); read
  // here, not imported, so a host without it (tests) still loads the plugin.
  const React = /** @type {any} */ (globalThis).React;
  const content = flex.CallCanvas?.Content;
  if (!content || typeof content.add !== 'function' || !React?.createElement) return;
  const h = React.createElement;

  /** @param {{ task?: any }} props */
  function PauseRecordingButton(props) {
    const taskSid = props.task?.taskSid;
    const [state, setState] = React.useState('unknown');
    const [busy, setBusy] = React.useState(false);
    React.useEffect(() => {
      if (!taskSid) return undefined;
      let live = true;
      // A hidden tab does not poll (each read costs the backend four to seven Twilio requests).
      const read = () => (globalThis.document?.hidden
        ? undefined
        : control('state', { taskSid }).then((s) => live && setState(s.state), () => {}));
      read();
      const timer = setInterval(read, STATE_POLL_MS);
      const listener = (/** @type {string} */ t, /** @type {RecordingState} */ s) => { if (live && t === taskSid) setState(s.state); };
      listeners.add(listener);
      return () => { live = false; clearInterval(timer); listeners.delete(listener); };
    }, [taskSid]);
    if (!taskSid || state === 'none' || state === 'unknown') return null;
    const paused = state === 'paused';
    const onClick = () => {
      setBusy(true);
      flex.Actions.invokeAction(paused ? RESUME_ALIAS : PAUSE_ALIAS, { task: props.task })
        .catch((/** @type {unknown} */ error) => log(controlFailureLevel(error), 'pause/resume failed', error))
        .finally(() => setBusy(false));
    };
    const button = h(
      'button',
      { type: 'button', onClick, disabled: busy, 'aria-pressed': paused, 'data-recording-state': state },
      paused ? ui.texts.resume : ui.texts.pause,
    );
    // `indicator_permanent`, as the template's: a paused indicator in the
    // call canvas for as long as the recording is paused.
    if (!(paused && ui.indicatorPermanent)) return button;
    return h(
      React.Fragment,
      null,
      button,
      h('span', { role: 'status', 'data-recording-paused': true }, ui.texts.pausedBanner),
    );
  }

  try {
    content.add(h(PauseRecordingButton, { key: 'dual-channel-recording-pause' }), { sortOrder: 1 });
  } catch (error) {
    log('warn', 'could not add the Pause/Resume button to the call canvas', error);
  }
}
