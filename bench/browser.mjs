// Benchmarks in headless Chromium: the bench page (bench/page.html) with the
// built plugin bundle or the polling baseline (bench/baseline-plugin.js).
import { pool, rng, sid, summary } from './lib.mjs';

const WORKER = 'WK00000000000000000000000000000b01';
const ACCOUNT = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

/** Calls for one variant, registered in the simulator (call, task, accepted reservation). */
export async function prepareCalls(sim, run, count, delays) {
  const calls = Array.from({ length: count }, (_, i) => ({
    taskSid: sid('WT', run, i),
    reservationSid: sid('WR', run, i),
    customerCall: sid('CA', run, i),
    workerCall: sid('CA', run, 0x800000 + i),
    conferenceSid: sid('CF', run, i),
    queueSid: 'WQ00000000000000000000000000000001',
    delayMs: delays ? delays[i] : 0,
  }));
  await pool(calls, 16, async (c) => {
    await sim.upsertCall({ callSid: c.customerCall, status: 'in-progress', from: '+15550000001', to: '+15550000002' });
    await sim.upsertCall({ callSid: c.workerCall, status: 'in-progress', from: '+15550000002', to: 'client:bench_worker' });
    await sim.putTask(c.taskSid, { call_sid: c.customerCall, direction: 'inbound', conference: { sid: c.conferenceSid } });
    await sim.upsertReservation({ taskSid: c.taskSid, reservationSid: c.reservationSid, workerSid: WORKER, status: 'accepted' });
  });
  return calls;
}

export async function openPage(context, {
  pageUrl, scripts, backendPort, token, log, quietConsole = false, feature = { enabled: true, channel: 'customer' },
}) {
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') log(`console: ${msg.text()}`); });
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.__bench !== undefined, null, { timeout: 10000 });
  const flexOptions = {
    customData: {
      features: { dual_channel_recording: feature },
      serverless_functions_domain: `127.0.0.1:${backendPort}`,
      serverless_functions_protocol: 'http',
    },
    workerSid: WORKER,
    accountSid: ACCOUNT,
    token,
    identity: 'bench_worker',
  };
  await page.evaluate((o) => window.__bench.setup(o), { flexOptions, scripts, quietConsole });
  return page;
}

/**
 * Bench 1: store change -> request leaving. Three pages in one browser, played
 * in alternating chunks so that noise falls on all alike, with the same delays
 * between accept and the conference change (uniform 0-99 ms, so the baseline's
 * 100 ms ticks meet the change at every phase):
 * - `ours`: the plugin bundle as built;
 * - `oursQuiet`: the same, with console.debug/info/log made no-ops in the page
 *   (the plugin logs a debug line right before it sends; under Playwright an
 *   inspector is attached and every console call is serialised for it);
 * - `base`: the polling baseline (bench/baseline-plugin.js).
 */
export async function latencyBench({ browser, files, backendPort, sim, token, count, chunk = 20, timeLimitMs = 6 * 60 * 1000, log }) {
  const random = rng(20240601);
  const delays = Array.from({ length: count }, () => Math.floor(random() * 100));
  const variants = {
    ours: { run: 0xb1, scripts: ['plugin-shim/dist/plugin-dual-channel-recording.js'], quietConsole: false },
    oursQuiet: { run: 0xb5, scripts: ['plugin-shim/dist/plugin-dual-channel-recording.js'], quietConsole: true },
    base: { run: 0xb2, scripts: ['bench/baseline-plugin.js'], quietConsole: false },
  };
  const context = await browser.newContext();
  const pageUrl = `${files.url}/bench/page.html`;
  for (const v of Object.values(variants)) {
    v.calls = await prepareCalls(sim, v.run, count, delays);
    v.page = await openPage(context, { pageUrl, scripts: v.scripts.map((s) => `${files.url}/${s}`), backendPort, token, log, quietConsole: v.quietConsole });
    v.rows = [];
  }
  const isolated = await variants.ours.page.evaluate(() => window.__bench.crossOriginIsolated());
  const names = Object.keys(variants);
  const started = Date.now();
  for (let i = 0, k = 0; i < count; i += chunk, k += 1) {
    const order = names.map((_, j) => names[(j + k) % names.length]);
    for (const which of order) {
      const v = variants[which];
      const r = await v.page.evaluate(([c]) => window.__bench.runCalls(c), [v.calls.slice(i, i + chunk)]);
      v.rows.push(...r);
    }
    if (Date.now() - started > timeLimitMs) { log('latency bench: time limit reached'); break; }
  }
  const fetchesOurs = await variants.ours.page.evaluate(() => window.__bench.fetches());
  await context.close();
  const stat = (rows) => ({
    ...summary(rows.map((r) => r.ms)),
    missed: rows.filter((r) => r.ms === null).length,
    statuses: rows.reduce((m, r) => { m[r.status] = (m[r.status] || 0) + 1; return m; }, {}),
  });
  return {
    isolated,
    ours: stat(variants.ours.rows),
    oursQuiet: stat(variants.oursQuiet.rows),
    base: stat(variants.base.rows),
    fetchesPerCallOurs: fetchesOurs.length / variants.ours.rows.length,
  };
}

/** Bench 1, second row: an agent whose Flex carries no call (phone number): no active call. */
export async function latencyNoActiveCall({ browser, files, backendPort, sim, token, count, log }) {
  const calls = await prepareCalls(sim, 0xb3, count, null);
  const context = await browser.newContext();
  const page = await openPage(context, { pageUrl: `${files.url}/bench/page.html`, scripts: [`${files.url}/plugin-shim/dist/plugin-dual-channel-recording.js`], backendPort, token, log });
  const rows = await page.evaluate(([c]) => window.__bench.runCalls(c, { withActiveCall: false }), [calls]);
  await context.close();
  return { ...summary(rows.map((r) => r.ms)), missed: rows.filter((r) => r.ms === null).length };
}

/** Bench 2: cost of one store notification with 20 followed tasks, nothing relevant changed. */
export async function notifyBench({ browser, files, backendPort, sim, token, tasks = 20, n = 20000, rounds = 30, log }) {
  const calls = await prepareCalls(sim, 0xb4, tasks, null);
  const context = await browser.newContext();
  const page = await openPage(context, { pageUrl: `${files.url}/bench/page.html`, scripts: [`${files.url}/plugin-shim/dist/plugin-dual-channel-recording.js`], backendPort, token, log });
  const states = await page.evaluate(([c]) => window.__bench.followTasks(c), [calls]);
  const waiting = states.filter((s) => s === 'waiting').length;
  const subscribers = await page.evaluate(() => window.__bench.subscriberCount());
  const fetchesBefore = await page.evaluate(() => window.__bench.fetchCount());
  const rows = await page.evaluate(([o]) => window.__bench.notifyCost(o), [{ n, rounds }]);
  const fetchesAfter = await page.evaluate(() => window.__bench.fetchCount());
  const isolated = await page.evaluate(() => window.__bench.crossOriginIsolated());
  await context.close();
  return {
    tasks, waiting, subscribers, n, rounds, isolated, fetchesDuring: fetchesAfter - fetchesBefore,
    diffNs: summary(rows.map((r) => r.diffNs)),
    directNs: summary(rows.map((r) => r.directNs)),
    onNs: summary(rows.map((r) => r.onNs)),
    offNs: summary(rows.map((r) => r.offNs)),
  };
}

/** Bench 5 (load): compile + instantiate, and init -> ready, over `loads` fresh pages. */
export async function loadBench({ browser, files, backendPort, token, loads = 50, bundlePath = 'plugin-shim/dist/plugin-dual-channel-recording.js', log }) {
  const context = await browser.newContext();
  const rows = [];
  for (let i = 0; i < loads; i += 1) {
    const page = await openPage(context, { pageUrl: `${files.url}/bench/page.html`, scripts: [`${files.url}/${bundlePath}`], backendPort, token, log });
    rows.push(await page.evaluate(() => window.__bench.loadTimes()));
    await page.close();
  }
  await context.close();
  return {
    loads: rows.length,
    apis: [...new Set(rows.flatMap((r) => r.wasm.map((w) => w.api)))],
    compileInstantiateMs: summary(rows.map((r) => r.compileInstantiateMs)),
    initToReadyMs: summary(rows.map((r) => r.initToReadyMs)),
    scriptMs: summary(rows.map((r) => r.scriptMs)),
  };
}

/**
 * Bench 4 (browser side): `count` recorded calls through the plugin after one
 * warm-up call (the token is cached). Returns the fetches the page made.
 */
export async function countCalls({ browser, files, backendPort, sim, token, run, count, afterWarmUp = async () => {}, log }) {
  const calls = await prepareCalls(sim, run, count + 1, null);
  const context = await browser.newContext();
  const page = await openPage(context, { pageUrl: `${files.url}/bench/page.html`, scripts: [`${files.url}/plugin-shim/dist/plugin-dual-channel-recording.js`], backendPort, token, log });
  await page.evaluate(([c]) => window.__bench.runCalls(c), [calls.slice(0, 1)]);
  await new Promise((r) => setTimeout(r, 200));
  await afterWarmUp();
  const before = await page.evaluate(() => window.__bench.fetchCount());
  const startSeq = await sim.log().then((l) => (l.length ? l[l.length - 1].seq : 0));
  const rows = await page.evaluate(([c]) => window.__bench.runCalls(c), [calls.slice(1)]);
  const fetches = (await page.evaluate(() => window.__bench.fetches())).slice(before);
  await context.close();
  return { rows, fetches, startSeq, callSids: new Set(calls.slice(1).map((c) => c.customerCall)) };
}

/**
 * Bench 6 (issue 10): the `conference` method's beforeAcceptTask listener.
 * Tasks with 110-key attributes 150 levels deep; 20 attribute rules and 5
 * excluded queues, none of which match, so every rule is read to its end
 * (the rules point past the deep value, into it, and at keys that are not
 * there). Two pages, played in alternating chunks: the plugin as built, and
 * the same simulated Flex without any plugin (the AcceptTask action alone).
 */
export async function acceptBench({ browser, files, backendPort, token, count = 1000, chunk = 100, log }) {
  const KEYS = 110;
  const DEPTH = 150;
  const deepKey = ['history', ...Array(DEPTH - 2).fill('n'), 'leaf'].join('.');
  const rules = [
    { key: deepKey, value: 'stop' },
    { key: 'direction', value: 'outbound' },
    { key: 'customer.preferences.privacy', value: 'no-recording' },
    { key: 'conversations.topics', value: 'medical' },
    { key: 'history.n.n.n.x', value: 'y' },
    { key: 'field_1.sub', value: 'x' },
    { key: 'missing_key', value: true },
    ...[3, 4, 5, 50, 99, 100, 101, 102, 103, 104, 105, 106, 107].map((k) => ({ key: `field_${k}`, value: k % 3 === 2 ? 'tag-0' : 'not this' })),
  ];
  const feature = {
    enabled: true,
    method: 'conference',
    exclude_queues: ['Billing', 'Legal', 'Compliance', 'WQ0000000000000000000000000000dead', 'WQ0000000000000000000000000000beef'],
    exclude_attributes: rules,
  };
  const context = await browser.newContext();
  const pageUrl = `${files.url}/bench/page.html`;
  const variants = {
    plugin: { scripts: ['plugin-shim/dist/plugin-dual-channel-recording.js'], rows: [], decided: { true: 0, false: 0, unset: 0 } },
    none: { scripts: [], rows: [], decided: { true: 0, false: 0, unset: 0 } },
  };
  for (const v of Object.values(variants)) {
    v.page = await openPage(context, { pageUrl, scripts: v.scripts.map((x) => `${files.url}/${x}`), backendPort, token, log, quietConsole: true, feature });
  }
  const isolated = await variants.plugin.page.evaluate(() => window.__bench.crossOriginIsolated());
  let keysSeen;
  let listeners;
  for (let i = 0, k = 0; i < count; i += chunk, k += 1) {
    const order = k % 2 === 0 ? ['plugin', 'none'] : ['none', 'plugin'];
    for (const which of order) {
      const v = variants[which];
      const r = await v.page.evaluate((o) => window.__bench.acceptCost(o), { n: Math.min(chunk, count - i), warmup: k === 0 ? 50 : 5, keys: KEYS, depth: DEPTH });
      v.rows.push(...r.rows);
      for (const [key, value] of Object.entries(r.decided)) v.decided[key] += value;
      if (which === 'plugin') { keysSeen = r.keysSeen; listeners = r.listeners; }
    }
  }
  await context.close();
  return {
    isolated,
    keys: keysSeen,
    depth: DEPTH,
    rules: rules.length,
    queues: feature.exclude_queues.length,
    listeners,
    listener: summary(variants.plugin.rows.map((r) => r.listenerMs)),
    actionWith: summary(variants.plugin.rows.map((r) => r.actionMs)),
    actionWithout: summary(variants.none.rows.map((r) => r.actionMs)),
    decidedWith: variants.plugin.decided,
    decidedWithout: variants.none.decided,
  };
}
