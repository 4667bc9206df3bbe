#!/usr/bin/env node
// Writes the two scenarios whose task attributes are too deep (and, for one,
// too large) to write by hand:
//
//   29-deep-nested-attributes.json  300 levels of nesting, about 2 KB in all
//   30-large-deep-attributes.json   the same 300 levels plus about 100 KB
//
// What they prove (issue 3: "Large or deeply nested attributes must not fail,
// stall or overflow"; issue 5: "deep objects and large documents handled",
// "when the media would not fit, say so ... the recording itself stands"):
// - the core's attribute scanner walks past and into 300 levels (a rule whose
//   key is 300 segments long, a rule whose key sits after the deep value)
//   without overflowing its stack or giving up, so the call is recorded;
// - 29: the backend reads, merges and writes back a 300-level document
//   (serde_json's default recursion limit is 128) and keeps every level;
// - 30: about 100 KB is far over TaskRouter's limit on task attributes (4096
//   characters), so the backend sends no write: the recording stands and the
//   attributes are left as they were.
//
// Run: node tests/scenarios/generate-deep-attributes.mjs
// (OUT_DIR=/some/dir writes the files there instead.)
// The deep value is written on one line, the rest of the file as usual.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// DEPTH=100 node ... probes the rest of the path below serde_json's default
// recursion limit of 128 (the files in the repository use 300).
const DEPTH = Number(process.env.DEPTH || 300);
const ME = 'WK00000000000000000000000000000001';

/** {"n":{"n":{ ... {"leaf":"go"} }}}: `depth` objects inside one another. */
function deep(depth) {
  let v = { leaf: 'go' };
  for (let i = 1; i < depth; i += 1) v = { n: v };
  return v;
}
const deepKey = `${Array(DEPTH).fill('n').join('.')}.leaf`;

/** About `bytes` of realistic-looking history: IVR steps and CRM notes. */
function history(bytes) {
  const out = [];
  let size = 2;
  for (let i = 1; size < bytes; i += 1) {
    const item = {
      at: new Date(Date.UTC(2026, 10, 1, 8, 0, i)).toISOString(),
      step: `ivr-menu-${i % 7}`,
      said: `Customer pressed ${i % 10} and said: I am calling about order ${100000 + i}, which has not arrived yet.`,
      crm: { case: `CS-${200000 + i}`, tags: ['billing', 'delivery', `wave-${i % 5}`], score: (i % 100) / 10 },
    };
    size += JSON.stringify(item).length + 1;
    out.push(item);
  }
  return out;
}

/**
 * JSON with two-space indentation, except: the value of a key in `oneLine`
 * on one line, and each item of an array under a key in `itemPerLine` on
 * its own line.
 */
function format(value, oneLine, itemPerLine, indent = '', key = null) {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const item = (v) => (itemPerLine.has(key) ? JSON.stringify(v) : format(v, oneLine, itemPerLine, inner));
    return `[\n${value.map((v) => inner + item(v)).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const member = ([k, v]) => `${inner}${JSON.stringify(k)}: ${oneLine.has(k) ? JSON.stringify(v) : format(v, oneLine, itemPerLine, inner, k)}`;
    return `{\n${entries.map(member).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function scenario(nn, { name, about, extra, expectWritten }) {
  const sid = (p, k) => `${p}${'0'.repeat(24)}${nn}0000${k}`;
  const [WT, WR, CF, C, A] = [sid('WT', '01'), sid('WR', '01'), sid('CF', '01'), sid('CA', 'c1'), sid('CA', 'a1')];
  const attributes = {
    about_this_task: about,
    call_sid: C,
    direction: 'inbound',
    from: '+15550102901',
    n: deep(DEPTH),
    ...extra,
    customer: { consent: 'granted', segment: 'retail' },
  };
  const expect = {
    recordings: [{ callSid: C, channels: 'dual' }],
  };
  if (expectWritten) {
    expect.taskAttributes = {
      [WT]: {
        about_this_task: about,
        n: deep(DEPTH),
        customer: { consent: 'granted', segment: 'retail' },
        conversations: { media: [{ type: 'VoiceRecording', url: `$recordingUrl(${C})`, start_time: '$any', channels: ['customer', 'others'] }] },
      },
    };
  } else {
    expect.unchangedAttributes = [WT];
  }
  expect.notifications = [];
  return {
    name,
    config: {
      enabled: true,
      channel: 'customer',
      exclude_attributes: [
        { key: deepKey, value: 'stop' },
        { key: 'customer.consent', value: 'denied' },
      ],
      exclude_queues: [],
    },
    worker: ME,
    steps: [
      { accept: { taskSid: WT, sid: WR, queueName: 'Sales', queueSid: sid('WQ', '01'), channel: 'voice', attributes } },
      { conference: { taskSid: WT, conferenceSid: CF, participants: [
        { participantType: 'customer', status: 'joined', callSid: C },
        { participantType: 'worker', status: 'joined', callSid: A, workerSid: ME, reservationSid: WR },
      ] } },
      { activeCall: A },
    ],
    expect,
    settleMs: 15000,
  };
}

const files = {
  '29-deep-nested-attributes.json': scenario('29', {
    name: 'task attributes nested 300 levels deep (about 2 KB): the exclusion rules walk into and past them without failing, the call is recorded, and the media entry is written with every level kept',
    about: 'Attribute "n" is nested 300 levels deep. The rule whose key is 300 segments long reaches its leaf ("go", not "stop"); the rule on customer.consent sits after it. Neither matches: the call is recorded, and the media entry is written back with all 300 levels intact.',
    extra: {},
    expectWritten: true,
  }),
  '30-large-deep-attributes.json': scenario('30', {
    name: 'task attributes of about 100 KB, 300 levels deep: still recorded without stalling; the media entry cannot fit TaskRouter\'s attribute limit, so the recording stands and the attributes are left untouched',
    about: 'About 100 KB: attribute "n" nested 300 levels deep and a long "history". The exclusion rules must walk all of it (neither matches), so the call is recorded. The document is over TaskRouter\'s limit on task attributes, so Twilio would refuse a write: the backend says so and leaves the task as it was.',
    extra: { history: history(100 * 1024) },
    expectWritten: false,
  }),
};

for (const [file, sc] of Object.entries(files)) {
  const attrs = JSON.stringify(sc.steps[0].accept.attributes);
  console.log(`${file}: task attributes ${attrs.length} bytes`);
  const text = `${format(sc, new Set(['n']), new Set(['history']))}\n`;
  writeFileSync(path.join(process.env.OUT_DIR || HERE, file), text);
  console.log(`${file}: ${text.length} bytes`);
}
