// The replica harness itself: the round-robin proxy hands connections out in
// turn and skips a stopped replica; the redis-server helper answers commands
// and keeps data over a restart only with persistence.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startRedis, startRoundRobinProxy } from './replicas.mjs';

async function namedServer(name) {
  const server = http.createServer((req, res) => res.end(name));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name, server, port: server.address().port, up: true };
}

/** A GET on its own connection (no keep-alive), so each one is a new connection. */
function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('each new connection goes to the next replica, stopped ones are skipped', async () => {
  const servers = [await namedServer('one'), await namedServer('two'), await namedServer('three')];
  const proxy = await startRoundRobinProxy({ targets: () => servers.filter((s) => s.up).map((s) => s.port) });
  try {
    const seen = [];
    for (let i = 0; i < 6; i += 1) seen.push(await get(proxy.url));
    assert.deepEqual(seen, ['one', 'two', 'three', 'one', 'two', 'three']);
    servers[1].up = false;
    const without = [];
    for (let i = 0; i < 4; i += 1) without.push(await get(proxy.url));
    assert.ok(!without.includes('two'), without.join());
    assert.deepEqual(new Set(without), new Set(['one', 'three']));
    // Closed: refused on the same address; opened again: served.
    await proxy.close();
    await assert.rejects(get(proxy.url));
    await proxy.open();
    assert.ok(['one', 'three'].includes(await get(proxy.url)));
  } finally {
    await proxy.close();
    for (const s of servers) s.server.close();
  }
});

test('redis-server: commands work, a restart loses data unless it persists', async () => {
  const volatile = await startRedis();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'redis-aof-'));
  const durable = await startRedis({ persist: true, dir });
  try {
    for (const r of [volatile, durable]) {
      assert.equal(await r.command('SET', 'k', 'v'), 'OK');
      assert.equal(await r.command('GET', 'k'), 'v');
      await r.restart();
    }
    assert.equal(await volatile.command('GET', 'k'), '');
    assert.equal(await durable.command('GET', 'k'), 'v');
  } finally {
    await volatile.stop();
    await durable.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
