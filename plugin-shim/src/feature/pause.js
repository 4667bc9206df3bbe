// @ts-check
/**
 * Pause and resume in Flex: the two actions other plugins and buttons invoke,
 * the Pause/Resume button in the call canvas and the optional banner. The
 * core decides what is paused and the backend asks Twilio; here we only
 * forward and show what Twilio answered.
 */
import { controlFailureLevel, log } from './logger.js';

export const PAUSE_ACTION = 'PauseDualChannelRecording';
export const RESUME_ACTION = 'ResumeDualChannelRecording';
/**
 * How often a visible button re-reads the state, so every tab shows a pause
 * made in another within that time.
 */
const STATE_POLL_MS = 5000;

/** @typedef {{ state: string, recordings: { recordingSid: string, status: string }[] }} RecordingState */
/** @typedef {{ enabled: boolean, indicatorBanner: boolean, indicatorPermanent: boolean, notificationId: string, texts: { pause: string, resume: string, pausedBanner: string } }} PauseUi */

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
   * @param {'pause'|'resume'|'state'} action
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
  try {
    flex.Actions.registerAction(PAUSE_ACTION, (/** @type {any} */ payload) => control('pause', payload));
    flex.Actions.registerAction(RESUME_ACTION, (/** @type {any} */ payload) => control('resume', payload));
  } catch (error) {
    log('warn', `could not register the ${PAUSE_ACTION}/${RESUME_ACTION} actions`, error);
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
    if (ui.enabled) addButton(flex, ui, control, listeners);
  }, () => {});

  return {
    /** @param {string} taskSid */
    pause: (taskSid) => control('pause', { taskSid }),
    /** @param {string} taskSid */
    resume: (taskSid) => control('resume', { taskSid }),
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
      // A hidden tab does not poll (each read costs the backend three or four Twilio requests).
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
      flex.Actions.invokeAction(paused ? RESUME_ACTION : PAUSE_ACTION, { task: props.task })
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
