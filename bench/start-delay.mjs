// Issue 11: start delay, from the Flex store change that makes the leg
// recordable (the conference shows both legs joined) to the simulator
// receiving the recording create, with every simulator answer 120 ms late
// (one Twilio round trip). Three rows, played in alternating chunks in one
// run so that noise falls on all alike:
// - `grant`: this plugin, the task accepted 1 s before its legs join, so
//   authorize-ahead has finished and the create request finds a grant;
// - `noGrant`: this plugin, accept and legs at once (authorize-ahead still
//   on its way when the leg request arrives; it waits for it);
// - `template`: the polling baseline (bench/baseline-plugin.js, 100 ms ticks,
//   the legs joining 0-99 ms after the accept, uniformly, so its ticks meet
//   the change at every phase, as they do when legs join seconds later)
//   against a backend doing what the template's function does: a token check
//   on every request, then the create (AUTHORIZATION=token-only, POLICY=off,
//   and a fresh Flex token per call so no cached answer helps).
// Also counted for the grant row: Twilio REST calls per recording (strict
// mode) and browser round trips per task.
import { restKind } from './backend.mjs';
import { openPage, prepareCalls } from './browser.mjs';
import { rng, summary } from './lib.mjs';

const WORKER = 'WK00000000000000000000000000000b01';
export const TWILIO_MS = 120;

export async function startDelayBench({ browser, files, sim, strict, template, token, count = 100, chunk = 10, leadMs = 1000, log }) {
  await sim.fault({ latencyMs: TWILIO_MS });
  const variants = {
    grant: { run: 0xd1, port: strict.port, scripts: ['plugin-shim/dist/plugin-dual-channel-recording.js'], leadMs },
    noGrant: { run: 0xd2, port: strict.port, scripts: ['plugin-shim/dist/plugin-dual-channel-recording.js'], leadMs: 0 },
    template: { run: 0xd3, port: template.port, scripts: ['bench/baseline-plugin.js'], leadMs: 0, fresh: true },
  };
  const random = rng(20261201);
  variants.template.leads = Array.from({ length: count + 1 }, () => Math.floor(random() * 100));
  const context = await browser.newContext();
  const pageUrl = `${files.url}/bench/page.html`;
  for (const v of Object.values(variants)) {
    v.calls = await prepareCalls(sim, v.run, count + 1, null);
    if (v.fresh) {
      v.tokens = v.calls.map((_, i) => `${token}-template-${i}`);
      for (const t of v.tokens) await sim.registerToken({ token: t, workerSid: WORKER, identity: 'bench_worker', valid: true, expiresInSec: 3600, roles: ['agent'] });
    }
    v.page = await openPage(context, { pageUrl, scripts: v.scripts.map((s) => `${files.url}/${s}`), backendPort: v.port, token, log, quietConsole: true });
    // One warm-up call each: connections open, the token and the Flex
    // configuration cached (a worker's first call pays for those once).
    await v.page.evaluate(([c, o]) => window.__bench.startDelayCalls(c, o), [v.calls.slice(0, 1), { leadMs: v.leadMs, leads: v.leads ? v.leads.slice(0, 1) : null, freshTokens: v.tokens ? v.tokens.slice(0, 1) : null }]);
    v.rows = [];
  }
  const names = Object.keys(variants);
  const seqFrom = {};
  const seqTo = {};
  const seqOf = async () => { const l = await sim.log(); return l.length ? l[l.length - 1].seq : 0; };
  for (let i = 1, k = 0; i <= count; i += chunk, k += 1) {
    const order = names.map((_, j) => names[(j + k) % names.length]);
    for (const which of order) {
      const v = variants[which];
      const from = await seqOf();
      const r = await v.page.evaluate(([c, o]) => window.__bench.startDelayCalls(c, o), [v.calls.slice(i, i + chunk), { leadMs: v.leadMs, leads: v.leads ? v.leads.slice(i, i + chunk) : null, freshTokens: v.tokens ? v.tokens.slice(i, i + chunk) : null }]);
      const to = await seqOf();
      (seqFrom[which] ||= []).push([from, to]);
      seqTo[which] = to;
      v.rows.push(...r);
    }
    log(`start delay: ${Math.min(i + chunk - 1, count)}/${count} calls per row`);
  }
  await context.close();
  const entries = await sim.log();
  const inRanges = (which) => entries.filter((e) => seqFrom[which].some(([a, b]) => e.seq > a && e.seq <= b));
  const stat = (which) => {
    const v = variants[which];
    const mine = inRanges(which);
    const createAt = new Map();
    for (const e of mine) {
      if (restKind(e) !== 'recording create') continue;
      const m = /Calls\/(CA[0-9a-f]{32})\/Recordings/.exec(e.path);
      if (m && !createAt.has(m[1])) createAt.set(m[1], e.receivedUs);
    }
    const ms = v.rows.map((r) => (createAt.has(r.callSid) ? (createAt.get(r.callSid) - r.t0Us) / 1000 : null));
    const kinds = {};
    for (const e of mine) kinds[restKind(e)] = (kinds[restKind(e)] || 0) + 1;
    const recordings = mine.filter((e) => restKind(e) === 'recording create' && e.status === 201).length;
    return {
      ...summary(ms.filter((x) => x !== null)),
      missed: ms.filter((x) => x === null).length,
      recordings,
      twilioPerRecording: recordings ? mine.length / recordings : null,
      kinds: Object.fromEntries(Object.entries(kinds).map(([k, n]) => [k, n / Math.max(recordings, 1)])),
      fetchesPerTask: v.rows.reduce((a, r) => a + r.fetches, 0) / v.rows.length,
    };
  };
  return { twilioMs: TWILIO_MS, leadMs, grant: stat('grant'), noGrant: stat('noGrant'), template: stat('template') };
}
