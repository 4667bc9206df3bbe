// node --test plugin-shim/test/pause-actions.test.mjs
// The pause actions under Flex's own Actions framework (the published
// @twilio/flex-ui, tests/harness/real-flex-actions.mjs): the
// flex-project-template's names (PauseCallRecording, ResumeCallRecording,
// ToggleCallRecording) and this plugin's earlier ones as aliases, each with
// `{task}` and `{taskSid}`; names another plugin holds are left to it. The
// engine is the core's control entry point as the shim sees it: the actions
// forward the task and the verb, nothing else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFlexActions, loadFlexUi } from '../../tests/harness/real-flex-actions.mjs';
import { startPause } from '../src/feature/pause.js';

const T = 'WT00000000000000000000000000000001';

/** A Flex host of the real Actions, and what reached the engine. */
function host() {
  const calls = [];
  const engine = {
    control: async (taskSid, action) => { calls.push([taskSid, action]); return { state: 'paused', recordings: [] }; },
    pauseUi: () => null,
  };
  const flex = { Actions: createFlexActions() };
  return { flex, engine, calls };
}

describe('pause actions through Flex\'s own Actions', () => {
  test('the template\'s names and the aliases forward the task and the verb', async () => {
    const { flex, engine, calls } = host();
    startPause(flex, {}, () => engine, Promise.resolve(true));
    const cases = [
      ['PauseCallRecording', { task: { taskSid: T } }, 'pause'],
      ['ResumeCallRecording', { taskSid: T }, 'resume'],
      ['ToggleCallRecording', { task: { taskSid: T } }, 'toggle'],
      ['PauseDualChannelRecording', { taskSid: T }, 'pause'],
      ['ResumeDualChannelRecording', { task: { taskSid: T } }, 'resume'],
    ];
    for (const [name, payload, verb] of cases) {
      calls.length = 0;
      await flex.Actions.invokeAction(name, payload);
      assert.deepEqual(calls, [[T, verb]], name);
    }
    await assert.rejects(flex.Actions.invokeAction('ToggleCallRecording', {}), /must name the task/);
  });

  test('names another plugin registered first are left to it; ours stay under the aliases', async () => {
    const { flex, engine, calls } = host();
    const theirs = [];
    flex.Actions.registerAction('PauseCallRecording', async (p) => { theirs.push(p); });
    const warnings = [];
    const warn = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    try {
      startPause(flex, {}, () => engine, Promise.resolve(true));
    } finally {
      console.warn = warn;
    }
    await flex.Actions.invokeAction('PauseCallRecording', { taskSid: T });
    assert.equal(theirs.length, 1, 'the other plugin keeps its action');
    assert.deepEqual(calls, []);
    await flex.Actions.invokeAction('PauseDualChannelRecording', { taskSid: T });
    await flex.Actions.invokeAction('ToggleCallRecording', { taskSid: T });
    assert.deepEqual(calls, [[T, 'pause'], [T, 'toggle']]);
    assert.equal(warnings.filter((w) => w.includes('already registered')).length, 1, 'logged once');
  });

  test("the template's keyboard shortcuts in Flex's KeyboardShortcutManager: 2 toggles, 3 pauses, 4 resumes the selected task, one a second", async () => {
    const { flex, engine, calls } = host();
    const { KeyboardShortcutManager } = loadFlexUi();
    flex.KeyboardShortcutManager = KeyboardShortcutManager;
    engine.pauseUi = () => ({
      enabled: true,
      indicatorBanner: false,
      indicatorPermanent: false,
      notificationId: 'PSDualChannelRecordingPaused',
      texts: { pause: 'Pause recording', resume: 'Resume recording', toggle: 'Pause or resume recording', pausedBanner: '' },
    });
    let selected = T;
    const manager = { store: { getState: () => ({ flex: { view: { selectedTaskSid: selected } } }) } };
    startPause(flex, manager, () => engine, Promise.resolve(true));
    await new Promise((r) => setTimeout(r, 0));
    const shortcuts = KeyboardShortcutManager.keyboardShortcuts;
    const cases = [['2', 'toggle', 'Pause or resume recording'], ['3', 'pause', 'Pause recording'], ['4', 'resume', 'Resume recording']];
    for (const [key, verb, name] of cases) {
      const shortcut = shortcuts[key];
      assert.ok(shortcut, `shortcut ${key}`);
      assert.equal(shortcut.name, name);
      assert.equal(shortcut.throttle, 1000);
      calls.length = 0;
      shortcut.action();
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(calls, [[T, verb]], key);
    }
    // No task selected: nothing is asked.
    selected = undefined;
    calls.length = 0;
    shortcuts['2'].action();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(calls, []);
  });
});
