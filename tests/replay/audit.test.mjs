// node --test tests/replay/audit.test.mjs
// What the runner reads from the backend, against a tiny local HTTP server
// standing in for it (the backend's own audit and metrics are tested with
// the backend): the safety-net gauge and the audit request.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { AUDIT_TOKEN } from '../harness/processes.mjs';
import { SAFETY_NET_GAUGE, fetchAudit, gaugeValue, safetyNetPending } from './audit.mjs';

const gaugeCases = [
  // [name, exposition text, value]
  ['absent', '# HELP x y\nrecording_backend_requests_total 4\n', 0],
  ['one series', `# TYPE ${SAFETY_NET_GAUGE} gauge\n${SAFETY_NET_GAUGE} 2\n`, 2],
  ['labelled series add up', `${SAFETY_NET_GAUGE}{method="call-leg"} 1\n${SAFETY_NET_GAUGE}{method="conference"} 3\n`, 4],
  ['a longer name is another metric', `${SAFETY_NET_GAUGE}_total 7\n`, 0],
  ['zero', `${SAFETY_NET_GAUGE} 0`, 0],
  ['not a number', `${SAFETY_NET_GAUGE} NaN`, 0],
];
for (const [name, text, want] of gaugeCases) {
  test(`gaugeValue: ${name}`, () => assert.equal(gaugeValue(text), want));
}

let server;
let base;
const seen = [];
let metrics = `${SAFETY_NET_GAUGE} 1\n`;

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(metrics);
    }
    if (url.pathname === '/audit') {
      if (req.headers.authorization !== `Bearer ${AUDIT_TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end('{"error":"unauthorized"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({
        from: url.searchParams.get('from'), to: url.searchParams.get('to'), store: 'memory', unrecorded: [], excluded: [], recorded: [],
      }));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));

test('safetyNetPending adds every backend up, and one that does not answer has none', async () => {
  metrics = `${SAFETY_NET_GAUGE} 1\n`;
  assert.equal(await safetyNetPending([base, base]), 2);
  assert.equal(await safetyNetPending(['http://127.0.0.1:9']), 0);
  metrics = '';
  assert.equal(await safetyNetPending([base]), 0);
});

test('fetchAudit asks for the window with the harness\'s bearer token', async () => {
  const from = new Date('2026-12-06T20:00:00.000Z');
  const to = new Date('2026-12-06T20:01:00.000Z');
  const got = await fetchAudit(base, from, to);
  assert.deepEqual(got, { from: from.toISOString(), to: to.toISOString(), store: 'memory', unrecorded: [], excluded: [], recorded: [] });
  const last = seen.at(-1);
  assert.equal(last.authorization, `Bearer ${AUDIT_TOKEN}`);
  assert.equal(last.url, `/audit?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  await assert.rejects(fetchAudit(`${base}/nowhere`, from, to), /audit answered 404/);
});
