// The `expect` part of a scenario (tests/scenarios/public/README.md), checked
// against the simulator's state (`GET /_sim/state`) and what the Flex
// instances saw. Pure functions: unit-tested in expect.test.mjs.

import { recordingUrl } from '../harness/sim-client.js';

export const EXPECT_KEYS = ['recordings', 'taskAttributes', 'unchangedAttributes', 'notifications', 'recordingStatus', 'conferenceRecord', 'unrecorded'];
export const STEP_KINDS = ['accept', 'conference', 'activeCall', 'hangup', 'complete', 'cancel', 'endCall', 'wait', 'twilio', 'backend', 'action'];

const MAX_SHOWN = 160;

/** A short readable rendering of a value for failure messages. */
export function show(value) {
  if (value === undefined) return 'missing';
  let text;
  try { text = JSON.stringify(value); } catch { text = String(value); }
  if (text === undefined) text = String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function joinPath(base, key) {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

const RECORDING_URL = /^\$recordingUrl\((CA[0-9a-fA-F]{32})\)$/;

/**
 * Match `actual` against `expected` as the scenario format defines it:
 * objects as subsets, arrays element by element with equal length, scalars
 * strictly equal, "$any" any present value, "$recordingUrl(CA...)" the URL of
 * that call's recording. Returns a list of mismatches (empty: match).
 * @param {(callSid: string) => {urls: string[]}} recordingUrlsFor
 */
export function matchSubset(expected, actual, recordingUrlsFor, path = '') {
  const where = path || '(top)';
  if (expected === '$any') {
    return actual === undefined ? [`${where}: expected a value ("$any"), found missing`] : [];
  }
  if (typeof expected === 'string') {
    const m = RECORDING_URL.exec(expected);
    if (m) {
      const { urls } = recordingUrlsFor(m[1]);
      if (urls.length === 0) {
        return [`${where}: expected the URL of the recording of ${m[1]}, but ${m[1]} has no recording (found ${show(actual)})`];
      }
      if (urls.includes(actual)) return [];
      return [`${where}: expected ${urls.length === 1 ? urls[0] : `one of ${urls.join(', ')}`} (recording of ${m[1]}), found ${show(actual)}`];
    }
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${where}: expected an array of ${expected.length}, found ${actual === undefined ? 'missing' : `${typeName(actual)} ${show(actual)}`}`];
    if (actual.length !== expected.length) {
      return [`${where}: expected an array of ${expected.length}, found ${actual.length} elements ${show(actual)}`];
    }
    return expected.flatMap((e, i) => matchSubset(e, actual[i], recordingUrlsFor, joinPath(path, i)));
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return [`${where}: expected an object, found ${actual === undefined ? 'missing' : `${typeName(actual)} ${show(actual)}`}`];
    return Object.keys(expected).flatMap((k) => matchSubset(expected[k], actual[k], recordingUrlsFor, joinPath(path, k)));
  }
  if (actual === expected) return [];
  return [`${where}: expected ${show(expected)}, found ${actual === undefined ? 'missing' : show(actual)}`];
}

/** Structural equality of JSON values; returns the paths that differ (empty: equal). */
export function diffJson(a, b, path = '') {
  const where = path || '(top)';
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return [`${where}: was ${show(a)}, now ${show(b)}`];
    if (a.length !== b.length) return [`${where}: was ${a.length} elements, now ${b.length} ${show(b)}`];
    return a.flatMap((v, i) => diffJson(v, b[i], joinPath(path, i)));
  }
  if (isPlainObject(a) || isPlainObject(b)) {
    if (!isPlainObject(a) || !isPlainObject(b)) return [`${where}: was ${show(a)}, now ${show(b)}`];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => {
      if (!(k in b)) return [`${joinPath(path, k)}: removed (was ${show(a[k])})`];
      if (!(k in a)) return [`${joinPath(path, k)}: added ${show(b[k])}`];
      return diffJson(a[k], b[k], joinPath(path, k));
    });
  }
  return Object.is(a, b) ? [] : [`${where}: was ${show(a)}, now ${show(b)}`];
}

/** Recording URLs per call, from the simulator's state. */
export function recordingIndex(state) {
  const byCall = new Map();
  for (const r of state.recordings || []) {
    if (!byCall.has(r.callSid)) byCall.set(r.callSid, []);
    byCall.get(r.callSid).push(r);
  }
  return {
    byCall,
    urlsFor: (callSid) => ({ urls: (byCall.get(callSid) || []).map((r) => recordingUrl(state.accountSid, r.sid)) }),
  };
}

function checkRecordings(expected, state) {
  const failures = [];
  const { byCall } = recordingIndex(state);
  const wanted = new Map();
  for (const e of expected) {
    if (!wanted.has(e.callSid)) wanted.set(e.callSid, []);
    wanted.get(e.callSid).push(e);
  }
  for (const [callSid, list] of wanted) {
    const found = byCall.get(callSid) || [];
    if (found.length !== list.length) {
      const what = found.length === 0 ? 'none' : `${found.length} (${found.map((r) => `${r.sid} ${r.channels}`).join(', ')})`;
      failures.push(`recordings: expected exactly ${list.length} recording${list.length === 1 ? '' : 's'} on ${callSid}, found ${what}`);
      continue;
    }
    list.forEach((e, i) => {
      if (e.channels !== undefined && found[i].channels !== e.channels) {
        failures.push(`recordings: recording ${found[i].sid} on ${callSid}: expected channels ${e.channels}, found ${found[i].channels}`);
      }
    });
  }
  for (const [callSid, found] of byCall) {
    if (!wanted.has(callSid)) {
      failures.push(`recordings: expected no recording on ${callSid}, found ${found.map((r) => `${r.sid} ${r.channels}`).join(', ')}`);
    }
  }
  return failures;
}

function sameSet(expected, found) {
  const e = [...new Set(expected)].sort();
  const f = [...new Set(found)].sort();
  return e.length === f.length && e.every((v, i) => v === f[i]);
}

/**
 * Check a scenario's `expect`.
 * @param {object} expect the scenario's expect object
 * @param {object} observed `{state, accepted: {WT: attributes as accepted}, notifications: [ids shown, all instances],
 *   conferenceRecords: {WT: conferenceOptions.conferenceRecord after beforeAcceptTask, null when unset},
 *   audit: the backend's audit answer, or `{error}` when it could not be had (only asked for `unrecorded`)}`
 * @returns {string[]} failures (empty: pass)
 */
export function checkExpect(expect, { state, accepted = {}, notifications = [], conferenceRecords = {}, audit }) {
  const failures = [];
  const unknown = Object.keys(expect || {}).filter((k) => !EXPECT_KEYS.includes(k));
  for (const k of unknown) failures.push(`unknown expect key "${k}" (known: ${EXPECT_KEYS.join(', ')})`);
  if (unknown.length) return failures;

  if (expect.recordings !== undefined) failures.push(...checkRecordings(expect.recordings, state));

  if (expect.taskAttributes !== undefined) {
    const { urlsFor } = recordingIndex(state);
    for (const [taskSid, want] of Object.entries(expect.taskAttributes)) {
      const task = (state.tasks || {})[taskSid];
      if (!task) { failures.push(`taskAttributes: task ${taskSid} is not in the simulator`); continue; }
      for (const m of matchSubset(want, task.attributes, urlsFor)) failures.push(`taskAttributes ${taskSid} ${m}`);
    }
  }

  if (expect.unchangedAttributes !== undefined) {
    for (const taskSid of expect.unchangedAttributes) {
      const task = (state.tasks || {})[taskSid];
      if (!(taskSid in accepted)) { failures.push(`unchangedAttributes: task ${taskSid} was never accepted in this scenario`); continue; }
      if (!task) { failures.push(`unchangedAttributes: task ${taskSid} is not in the simulator`); continue; }
      const diffs = diffJson(accepted[taskSid], task.attributes);
      if (diffs.length) failures.push(`unchangedAttributes: task ${taskSid} changed: ${diffs.slice(0, 4).join('; ')}${diffs.length > 4 ? `; (+${diffs.length - 4} more)` : ''}`);
    }
  }

  if (expect.recordingStatus !== undefined) failures.push(...checkRecordingStatus(expect.recordingStatus, state));
  if (expect.conferenceRecord !== undefined) {
    const said = (v) => (v === null ? 'null (left unset)' : show(v));
    for (const [taskSid, want] of Object.entries(expect.conferenceRecord)) {
      if (!(taskSid in conferenceRecords)) { failures.push(`conferenceRecord: task ${taskSid} was never accepted in this scenario`); continue; }
      const found = conferenceRecords[taskSid];
      if (found !== want) failures.push(`conferenceRecord ${taskSid}: expected ${said(want)}, found ${said(found)}`);
    }
  }

  if (expect.unrecorded !== undefined) failures.push(...checkUnrecorded(expect.unrecorded, audit, Object.keys(accepted)));

  if (expect.notifications !== undefined && !sameSet(expect.notifications, notifications)) {
    failures.push(`notifications: expected ${show([...new Set(expect.notifications)].sort())}, shown ${show([...new Set(notifications)].sort())}`);
  }
  return failures;
}

/**
 * `unrecorded`: the scenario's tasks that the backend's audit reports as
 * "should have been recorded, and was not" are exactly `want`. Tasks of the
 * audit that this scenario did not accept are not its business.
 * @param {string[]} want
 * @param {object | {error: string} | undefined} audit
 * @param {string[]} scenarioTasks the scenario's task SIDs
 */
export function checkUnrecorded(want, audit, scenarioTasks) {
  if (!audit) return ['unrecorded: the backend\'s audit was not asked'];
  if (audit.error) return [`unrecorded: ${audit.error}`];
  if (!Array.isArray(audit.unrecorded)) return [`unrecorded: the audit's answer has no "unrecorded" list: ${show(audit)}`];
  const ours = new Set([...scenarioTasks, ...want]);
  const reported = audit.unrecorded.filter((u) => u && ours.has(u.taskSid));
  const found = reported.map((u) => u.taskSid);
  if (sameSet(want, found)) return [];
  const why = reported.map((u) => `${u.taskSid}${u.reason ? ` (${u.reason})` : ''}`);
  return [`unrecorded: expected ${show([...new Set(want)].sort())}, the audit reports ${why.length ? why.join(', ') : 'none'}`];
}

/**
 * `recordingStatus`: the status of the latest recording on each call (`CA...`)
 * or of the conference's recording (`CF...`); `absent` when there is none.
 */
export function checkRecordingStatus(want, state) {
  const failures = [];
  for (const [sid, status] of Object.entries(want || {})) {
    const list = sid.startsWith('CF')
      ? (state.conferenceRecordings || []).filter((r) => r.conferenceSid === sid)
      : (state.recordings || []).filter((r) => r.callSid === sid);
    // The simulator lists recordings in creation order: the last is the latest.
    const found = list.length ? list[list.length - 1].status : 'absent';
    if (found !== status) failures.push(`recordingStatus ${sid}: expected ${status}, found ${found}`);
  }
  return failures;
}

/** The kind of a step: its one key besides `instance`; throws a clear error otherwise. */
export function stepKind(step) {
  const keys = Object.keys(step || {}).filter((k) => k !== 'instance');
  const unknown = keys.filter((k) => !STEP_KINDS.includes(k));
  if (unknown.length) throw new Error(`unknown step kind "${unknown[0]}" (known: ${STEP_KINDS.join(', ')})`);
  if (keys.length !== 1) throw new Error(`a step must have exactly one kind besides "instance", found ${keys.length ? keys.join(', ') : 'none'}`);
  return keys[0];
}

/** The schema's messages (ajv errors, allErrors mode), as one readable line. */
export function formatSchemaErrors(errors) {
  const all = errors || [];
  const inBranch = (e) => /\/oneOf\/\d+\//.test(e.schemaPath);
  const render = (e) => {
    let line = `${e.instancePath || '/'} ${e.message}`;
    if (e.params && e.params.additionalProperty) line += ` ("${e.params.additionalProperty}")`;
    if (e.params && e.params.allowedValues) line += ` (${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
    return line;
  };
  let lines = all.filter((e) => !inBranch(e) && e.keyword !== 'oneOf').map(render);
  if (lines.length === 0) {
    for (const one of all.filter((e) => e.keyword === 'oneOf')) {
      const prefix = one.schemaPath.replace(/\/oneOf$/, '/oneOf/');
      const branches = all.filter((e) => e.instancePath === one.instancePath && e.schemaPath.startsWith(prefix));
      const where = one.instancePath || '/';
      if (Array.isArray(one.params && one.params.passingSchemas)) {
        lines.push(`${where} matches more than one alternative of oneOf (${one.params.passingSchemas.join(', ')})`);
      } else if (branches.length && branches.every((e) => e.keyword === 'required')) {
        lines.push(`${where} must have exactly one of: ${branches.map((e) => e.params.missingProperty).join(', ')}`);
      } else {
        lines.push(...all.filter((e) => e.schemaPath.startsWith(prefix)).map(render));
      }
    }
    if (lines.length === 0) lines = all.map(render);
  }
  lines = [...new Set(lines)];
  return lines.slice(0, 4).join('; ') + (lines.length > 4 ? `; (+${lines.length - 4} more)` : '');
}
