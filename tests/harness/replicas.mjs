// Several backend replicas behind one address, as `backendReplicas` in
// tests/scenarios/public/README.md asks: a redis-server of our own (the replicas'
// shared claim store), N backend processes configured alike with REDIS_URL,
// and a round-robin TCP proxy that hands each new connection to the next
// replica in turn, as a layer-4 load balancer does.

import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { freePort, startProcess } from './processes.mjs';

const run = promisify(execFile);

export function redisServerBin() {
  return process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';
}

/**
 * A redis-server on a free loopback port. `persist` turns on the
 * append-only file (in `dir`), so that `restart()` keeps the claims as a
 * production Redis with persistence would; without it a restart loses them.
 */
export async function startRedis({ port, logFile, echo, persist = false, dir } = {}) {
  const p = port || await freePort();
  const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', ''];
  if (persist) {
    if (!dir) throw new Error('startRedis: persist needs a dir for the append-only file');
    args.push('--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir);
  } else {
    args.push('--appendonly', 'no');
  }
  const launch = () => startProcess({
    name: 'redis-server', bin: redisServerBin(), args, logFile, echo, readyPattern: /Ready to accept connections/,
  });
  let proc = await launch();
  const handle = {
    port: p,
    url: `redis://127.0.0.1:${p}/0`,
    get running() { return proc !== null && proc.child.exitCode === null && proc.child.signalCode === null; },
    get pid() { return proc ? proc.child.pid : null; },
    /** One command through redis-cli (shipped with Debian's redis-server). */
    async command(...words) {
      const { stdout } = await run('redis-cli', ['-p', String(p), ...words.map(String)]);
      return stdout.trim();
    },
    async stop() {
      if (proc) await proc.stop();
      proc = null;
    },
    async start() {
      if (handle.running) return;
      proc = await launch();
    },
    async restart() {
      await handle.stop();
      await handle.start();
    },
  };
  return handle;
}

/**
 * A TCP proxy on 127.0.0.1 that hands each new connection to the next of
 * `targets()` (ports) in turn; the caller leaves out replicas it stopped, as a
 * load balancer's health check would. A connection whose replica fails is
 * closed on both sides.
 */
export async function startRoundRobinProxy({ targets, port = 0 }) {
  let next = 0;
  const sockets = new Set();
  const server = net.createServer((client) => {
    const list = targets();
    if (list.length === 0) return void client.destroy();
    const target = list[next % list.length];
    next += 1;
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (p) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
  const got = await listen(port);
  const handle = {
    port: got,
    url: `http://127.0.0.1:${got}`,
    get listening() { return server.listening; },
    /** Stops accepting and drops open connections. */
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server.listening) await new Promise((resolve) => server.close(() => resolve()));
    },
    /** Listens again on the same port. */
    async open() {
      if (server.listening) return;
      let lastErr;
      for (let i = 0; i < 20; i += 1) {
        try { await listen(got); return; } catch (err) {
          lastErr = err;
          await new Promise((r) => setTimeout(r, 150));
        }
      }
      throw lastErr;
    },
  };
  return handle;
}

/**
 * `count` backends started by `launch({env, name})` (each with REDIS_URL of
 * `redis`) behind one round-robin address. The handle looks like
 * startBackend's (`port`, `url`, `running`, `stop()`, `start()`), so a
 * `{"backend": "down"}` step stops the whole group, proxy included, and
 * `"up"` brings it back on the same address.
 */
export async function startReplicaGroup({ count, redis, launch }) {
  if (!Number.isInteger(count) || count < 1) throw new Error(`backendReplicas must be a whole number from 1, found ${count}`);
  // The address Twilio (the simulator) calls is the proxy's: each replica
  // checks signatures against it (PUBLIC_URL).
  const proxyPort = await freePort();
  const replicas = [];
  try {
    for (let i = 0; i < count; i += 1) {
      replicas.push(await launch({ env: { REDIS_URL: redis.url, PUBLIC_URL: `http://127.0.0.1:${proxyPort}` }, name: `replica-${i + 1}` }));
    }
  } catch (err) {
    for (const r of replicas) await r.stop().catch(() => {});
    throw err;
  }
  const proxy = await startRoundRobinProxy({ port: proxyPort, targets: () => replicas.filter((r) => r.running).map((r) => r.port) });
  const group = {
    replicas,
    proxy,
    port: proxy.port,
    url: proxy.url,
    get running() { return proxy.listening && replicas.every((r) => r.running); },
    async stop() {
      await proxy.close();
      for (const r of replicas) await r.stop();
    },
    async start() {
      for (const r of replicas) await r.start();
      await proxy.open();
    },
    /** One replica stopped and started again (same port, empty memory). */
    async restartReplica(i) {
      await replicas[i].stop();
      await replicas[i].start();
    },
  };
  return group;
}
