// Node-only helpers shared by the replay runner, the browser test and the demo
// server: free loopback ports, starting the simulator and the backend binaries
// (waiting for their "listening" line), and a small static file server.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, promises as fsp } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Fixed values for local runs (docs/CONTRACTS.md). */
export const SIM_ACCOUNT = {
  accountSid: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  authToken: 'sim-auth-token',
  // The simulator's API key (twilio-sim's SimConfig).
  apiKey: 'SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  apiSecret: 'sim-api-secret',
  workspaceSid: 'WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
};

export function simBin() {
  return path.resolve(REPO_ROOT, process.env.TWILIO_SIM_BIN || 'target/debug/twilio-sim');
}
export function backendBin() {
  return path.resolve(REPO_ROOT, process.env.BACKEND_BIN || 'target/debug/recording-backend');
}
export function bundlePath() {
  return path.resolve(REPO_ROOT, process.env.PLUGIN_BUNDLE || 'plugin-shim/dist/plugin-dual-channel-recording.js');
}

/** What is missing to run against the real parts, as readable lines (empty: all there). */
export function missingParts({ bundle = true } = {}) {
  const missing = [];
  if (!existsSync(simBin())) missing.push(`simulator binary ${simBin()} (set TWILIO_SIM_BIN or run cargo build -p twilio-sim)`);
  if (!existsSync(backendBin())) missing.push(`backend binary ${backendBin()} (set BACKEND_BIN or run cargo build -p recording-backend)`);
  if (bundle && !existsSync(bundlePath())) missing.push(`plugin bundle ${bundlePath()} (set PLUGIN_BUNDLE or build plugin-shim)`);
  return missing;
}

/** A free TCP port on 127.0.0.1 (or `preferred` when it is free). */
export async function freePort(preferred = 0) {
  const tryListen = (port) => new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const { port: got } = srv.address();
      srv.close(() => resolve(got));
    });
  });
  if (preferred) {
    try { return await tryListen(preferred); } catch { /* taken: any port */ }
  }
  return tryListen(0);
}

const children = new Set();
let exitHooked = false;
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of children) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      for (const child of children) {
        try { child.kill('SIGKILL'); } catch { /* already gone */ }
      }
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/**
 * Start a binary and wait until it prints a line matching `readyPattern`
 * (on stdout or stderr). Output goes to `logFile` when given.
 */
export async function startProcess({ name, bin, args = [], env = {}, readyPattern = /listening on/, logFile, timeoutMs = 30000, echo = false }) {
  if (!existsSync(bin)) throw new Error(`${name}: ${bin} does not exist`);
  hookExit();
  let log = null;
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
  }
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let tail = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  const ready = new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      if (log) log.write(text);
      if (echo) process.stderr.write(`[${name}] ${text}`);
      tail = (tail + text).slice(-4000);
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      if (lines.some((l) => readyPattern.test(l))) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    exited.then(({ code, signal }) => reject(new Error(`${name} exited (${signal || code}) before it was listening; its output:\n${tail.trim()}`)));
    setTimeout(() => reject(new Error(`${name} printed no "listening" line within ${timeoutMs} ms; its output:\n${tail.trim()}`)), timeoutMs).unref();
  });
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    name,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      if (log) log.end();
    },
  };
}

export async function startSim({ port, logFile, echo } = {}) {
  const p = port || await freePort();
  const proc = await startProcess({
    name: 'twilio-sim', bin: simBin(), args: ['--listen', `127.0.0.1:${p}`], logFile, echo,
  });
  return { ...proc, port: p, url: `http://127.0.0.1:${p}` };
}

/** The bearer token every backend the harness starts takes for its audit (`GET /audit`). */
export const AUDIT_TOKEN = 'replay-audit-token';

/**
 * The backend's environment: the simulator's account (its auth token also
 * checks the signatures of what the simulator sends), the audit's token, and
 * a short safety net so that scenarios settle quickly.
 */
export function backendEnv() {
  return {
    TWILIO_ACCOUNT_SID: SIM_ACCOUNT.accountSid,
    TWILIO_AUTH_TOKEN: SIM_ACCOUNT.authToken,
    TWILIO_FLEX_WORKSPACE_SID: SIM_ACCOUNT.workspaceSid,
    AUDIT_TOKEN,
    SAFETY_NET_SECONDS: '2',
  };
}

/**
 * The backend, pointed at the simulator (or at a proxy in front of it, with
 * the token check sent to `iamBaseUrl`); `start()` after `stop()` starts it
 * again on the same port with the same arguments; with `lazy`, the first
 * `start()` launches it. Its `PUBLIC_URL` is its own address unless `env`
 * names the one the simulator reaches it by (a proxy in front of it).
 */
export async function startBackend({ port, simUrl, iamBaseUrl, logFile, echo, env = {}, name = 'recording-backend', lazy = false } = {}) {
  const p = port || await freePort();
  const iam = iamBaseUrl ? ['--iam-base-url', iamBaseUrl] : [];
  const launch = () => startProcess({
    name,
    bin: backendBin(),
    args: ['--listen', `127.0.0.1:${p}`, '--twilio-base-url', simUrl, ...iam, '--demo'],
    env: { ...backendEnv(), PUBLIC_URL: `http://127.0.0.1:${p}`, ...env },
    logFile,
    echo,
  });
  // `lazy`: the first `start()` launches it (a backend reads Twilio as it
  // starts, and that read belongs to whatever comes after it).
  let proc = lazy ? null : await launch();
  const handle = {
    port: p,
    url: `http://127.0.0.1:${p}`,
    get running() { return proc !== null && proc.child.exitCode === null && proc.child.signalCode === null; },
    get pid() { return proc ? proc.child.pid : null; },
    async stop() {
      if (proc) await proc.stop();
      proc = null;
    },
    async start() {
      if (handle.running) return;
      proc = null;
      // The port was ours a moment ago; retry briefly in case the OS holds it.
      let lastErr;
      for (let i = 0; i < 20; i += 1) {
        try { proc = await launch(); return; } catch (err) {
          lastErr = err;
          await new Promise((r) => setTimeout(r, 150));
        }
      }
      throw lastErr;
    },
  };
  return handle;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Serve files on 127.0.0.1. `routes` maps exact URL paths to files or to
 * functions `(req, res) => void`; `dirs` maps URL prefixes to directories;
 * `headers` are added to every file served (the benchmarks' isolation headers).
 */
export async function startStaticServer({ port = 0, routes = {}, dirs = {}, headers = {} } = {}) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const pathname = decodeURIComponent(url.pathname);
      let file = null;
      const route = routes[pathname];
      if (typeof route === 'function') return void (await route(req, res, url));
      if (typeof route === 'string') file = route;
      if (!route && pathname === '/favicon.ico') { res.writeHead(204); return void res.end(); }
      if (!file) {
        for (const [prefix, dir] of Object.entries(dirs)) {
          if (pathname.startsWith(prefix)) {
            const candidate = path.resolve(dir, `.${pathname.slice(prefix.length - 1)}`);
            if (candidate.startsWith(path.resolve(dir) + path.sep)) file = candidate;
            break;
          }
        }
      }
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return void res.end(`not found: ${pathname}`);
      }
      const body = await fsp.readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'cache-control': 'no-store',
        ...headers,
      });
      res.end(body);
    } catch (err) {
      res.writeHead(err.code === 'ENOENT' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(String(err.message));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: got } = server.address();
  return {
    port: got,
    url: `http://127.0.0.1:${got}`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/**
 * Launch Debian's Chromium headless through playwright-core. Playwright gives
 * each launch a fresh temporary profile (its own --user-data-dir) and removes
 * it on close; it refuses an explicit --user-data-dir with launch().
 */
export async function launchChromium({ args = [] } = {}) {
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync',
      ...args,
    ],
  });
  return { browser, close: () => browser.close().catch(() => {}) };
}
