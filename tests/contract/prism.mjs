// Starts `prism proxy --errors` in front of an upstream (the simulator), so a
// request that breaks Twilio's published contract is refused with 422 instead
// of reaching it.

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Twilio's contract, the repository's copy (tests/contract/twilio-openapi/README.md). */
export function contractSpecPath() {
  return join(REPO_ROOT, 'tests', 'contract', 'twilio-openapi', 'twilio_recording_contract.json');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when something accepts a TCP connection on host:port. */
function accepts(host, port) {
  return new Promise((res) => {
    const sock = connect({ host, port });
    const done = (ok) => { sock.destroy(); res(ok); };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1_000, () => done(false));
  });
}

/**
 * @param {{upstream: string, port: number, spec?: string, timeoutMs?: number}} options
 * @returns {Promise<{url: string, stop: () => Promise<void>, output: () => string}>}
 */
export async function startPrism({ upstream, port, spec = contractSpecPath(), timeoutMs = 30_000 }) {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'prism');
  if (!existsSync(bin)) throw new Error(`prism not installed at ${bin}: run npm ci at the repository root`);
  if (!existsSync(spec)) throw new Error(`contract spec not found at ${spec}`);

  const child = spawn(
    bin,
    ['proxy', spec, upstream, '--errors', '-h', '127.0.0.1', '-p', String(port)],
    // Own process group, so stop() ends prism and anything it spawned, and
    // nothing else.
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  const exit = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; r(); }));

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = sleep(5_000).then(() => {
      if (!exited) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
    });
    await Promise.race([exit, timer]);
    await exit;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`prism exited early (${JSON.stringify(exited)}):\n${output}`);
    // A bare connection, not an HTTP probe: a probe would be proxied to the
    // upstream and show up in its request log.
    if (await accepts('127.0.0.1', port)) return { url, stop, output: () => output };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prism did not accept requests within ${timeoutMs} ms:\n${output}`);
    }
    await sleep(100);
  }
}
