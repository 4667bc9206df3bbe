// Small helpers shared by the benchmarks: statistics, the harness's static
// file server making its pages cross-origin isolated (finer
// performance.now()), and the harness's Chromium without background throttling.
import { promises as fsp } from 'node:fs';
import { launchChromium as launchHarnessChromium, startStaticServer } from '../tests/harness/processes.mjs';

export function sorted(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

/** Nearest-rank percentile of an ascending array. */
export function pct(sortedValues, p) {
  if (sortedValues.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sortedValues.length);
  return sortedValues[Math.min(sortedValues.length - 1, Math.max(0, rank - 1))];
}

export function summary(values) {
  const s = sorted(values);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, min: s[0], median: pct(s, 50), mean, p90: pct(s, 90), p99: pct(s, 99), max: s[s.length - 1] };
}

export const fmt = (v, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : String(v));

/**
 * Serves `root` on 127.0.0.1 with COOP/COEP headers: the pages are
 * cross-origin isolated, so performance.now() has 5 us resolution instead of
 * 100 us. Requests to the backend stay CORS requests, which COEP allows.
 */
export function startIsolatedServer(root) {
  return startStaticServer({
    dirs: { '/': root },
    headers: {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
    },
  });
}

/** Debian's Chromium, headless, with timers of background pages not throttled. */
export function launchChromium() {
  return launchHarnessChromium({
    args: [
      '--disable-quic', '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}

/** Deterministic pseudo-random numbers (xorshift32) so both variants get the same delays. */
export function rng(seed = 12345) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

/** A Twilio-shaped SID: prefix + 8 hex of `run` + 24 hex of `i`. */
export const sid = (prefix, run, i) => `${prefix}${(run >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(24, '0')}`;

/** Runs `fn` over items with at most `n` at once. */
export async function pool(items, n, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

/** VmHWM / VmRSS of a process, in KiB. */
export async function memoryOf(pid) {
  const text = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  const get = (k) => Number((text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1]);
  return { hwmKiB: get('VmHWM'), rssKiB: get('VmRSS') };
}

/** CPU time (user + system) a process has used so far, in ms (assumes 100 clock ticks/s). */
export async function cpuMsOf(pid) {
  const text = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
