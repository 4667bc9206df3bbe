// Issue 5 benchmarks: Twilio REST calls and browser round trips per recorded
// call (bench 4), and sustained create-recording throughput with the
// simulator answering after 100 ms (bench 3, backend/examples/loadgen.rs).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { countCalls } from './browser.mjs';

/** What a simulator log entry is, by method and path. */
export function restKind(e) {
  const p = e.path;
  if (/\/Tokens\/validate$/.test(p)) return 'token check';
  if (/\/Reservations$/.test(p)) return 'reservations list';
  if (/\/Tasks\/WT[0-9a-f]{32}$/.test(p)) return e.method === 'GET' ? 'task read' : 'task write';
  if (/\/Recordings\.json$/.test(p)) return e.method === 'POST' ? 'recording create' : 'recordings list';
  if (/\/Participants\//.test(p)) return 'participant fetch';
  if (/\/Calls\/CA[0-9a-f]{32}\.json$/.test(p)) return 'call fetch';
  return `${e.method} ${p}`;
}

const fileSize = (f) => { try { return statSync(f).size; } catch { return 0; } };

/** Bench 4 for one backend: REST calls per recorded call and browser requests per call. */
export async function countBench({ label, browser, files, backend, sim, token, run, count = 20, log }) {
  let logFrom = 0;
  const afterWarmUp = async () => { logFrom = fileSize(backend.logFile); };
  const { rows, fetches, startSeq, callSids } = await countCalls({ browser, files, backendPort: backend.port, sim, token, run, count, afterWarmUp, log });
  await new Promise((r) => setTimeout(r, 200));
  const entries = (await sim.log()).filter((e) => e.seq > startSeq);
  const kinds = {};
  for (const e of entries) kinds[restKind(e)] = (kinds[restKind(e)] || 0) + 1;
  const recordings = entries.filter((e) => restKind(e) === 'recording create' && e.status === 201).length;
  const blog = readFileSync(backend.logFile, 'utf8').slice(logFrom);
  const finished = blog.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '').split('\n').filter((l) => /finished processing request/.test(l));
  const backendPosts = finished.filter((l) => /method=POST/.test(l)).length;
  const backendOptions = finished.filter((l) => /method=OPTIONS/.test(l)).length;
  const ourFetches = fetches.filter((f) => callSids.has(f.callSid)).length;
  return {
    label,
    calls: rows.length,
    ok: rows.filter((r) => r.status === 200).length,
    recordings,
    restCalls: entries.length,
    restPerCall: entries.length / rows.length,
    kinds,
    fetchesPerCall: ourFetches / rows.length,
    backendPostsPerCall: backendPosts / rows.length,
    preflightsPerCall: backendOptions / rows.length,
  };
}

/** Runs the Rust load generator once; returns its JSON summary. */
export function loadgen(bin, args, { timeoutMs = 180000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`loadgen ${args.join(' ')} exited ${signal || code}: ${err.slice(-2000)}`));
      try { resolve(JSON.parse(out.trim().split('\n').pop())); } catch (e) { reject(new Error(`loadgen output unreadable: ${out.slice(-500)} ${err.slice(-500)}`)); }
    });
  });
}

export const loadgenBin = (repo) => path.join(repo, 'target/release/examples/loadgen');
