// Contract replay (issue 5): the backend talks to the Twilio simulator through
// `prism proxy --errors` with tests/contract/twilio-openapi, so Prism refuses any
// request that breaks Twilio's published contract; and, since Prism does not
// check answers, every answer the simulator gave is validated against the
// response schema of its path (openapi.mjs).
//
// Used by the replay runner's `--via-prism` option:
//   node tests/replay/replay.mjs --via-prism tests/scenarios/public tests/scenarios
//
// Topology:   plugin -> backend --twilio-base-url--> prism --> twilio-sim
//                              \--iam-base-url-----------------^
// The Flex token check (iam.twilio.com) is not in Twilio's OpenAPI files, so
// the backend sends it straight to the simulator; its answer is still checked
// (openapi.mjs knows the documented answer of the token check).

import { freePort, startBackend } from '../harness/processes.mjs';
import { createValidator } from './openapi.mjs';
import { contractSpecPath, startPrism } from './prism.mjs';

const TOKEN_CHECK = /^\/v1\/Accounts\/[^/]+\/Tokens\/validate$/;
// The runner's own Event Streams set-up (`eventStreams`) goes straight to the
// simulator: prism 5.16 cannot read the repeated `Types` of a subscription.
// Its answers are validated like the rest.
const EVENTS_API = /^\/v1\/(Sinks|Subscriptions)(\/|$)/;
// Prism's own log lines, e.g.
//   [HTTP SERVER] post /2010-04-01/.../Recordings.json ℹ  info      Request received
//   [HTTP SERVER] post /2010-04-01/.../CA-bad/Recordings.json ✖  error     Request terminated with error: https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY: Invalid request
//   [VALIDATOR] ✖  error     Violation: request.path.callsid Request path parameter callsid must match pattern ...
// (ANSI colours are stripped first.)
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const RECEIVED = /\[HTTP SERVER\]\s+(\w+)\s+(\S+)\s+.*Request received/;
const TERMINATED = /\[HTTP SERVER\]\s+(\w+)\s+(\S+)\s+.*Request terminated with error:\s*(.*)$/;
const REQUEST_VIOLATION = /\[VALIDATOR\].*(?:✖|error).*Violation:\s*(request\b.*)$/;

/**
 * The backend pointed at prism for Twilio's REST API and at the simulator for
 * the token check. Same handle as processes.mjs's startBackend: `stop()`, and
 * `start()` again on the same port with the same arguments (the scenario
 * format's `backend: down/up`).
 */
export function startBackendVia({ twilioBaseUrl, iamBaseUrl, logFile, echo = false, port, lazy = false, env = {} } = {}) {
  return startBackend({ port, simUrl: twilioBaseUrl, iamBaseUrl, logFile, echo, lazy, env: { ...PRISM_BACKEND_ENV, ...env } });
}

/**
 * What a backend behind prism needs: no recording status callbacks, since
 * prism 5.16 refuses every form encoding of `RecordingStatusCallbackEvent`
 * (README, "Known limits"); the backend asks for them by default once it has
 * a `PUBLIC_URL`, which the harness always gives it.
 */
export const PRISM_BACKEND_ENV = { RECORDING_STATUS_CALLBACK: 'none' };

/** Start prism in front of the simulator. */
export async function startContractProxy({ simUrl, spec = contractSpecPath() }) {
  return startPrism({ upstream: simUrl, port: await freePort(), spec });
}

/** Prism's requests and refusals in a slice of its output. */
export function parsePrismOutput(text) {
  const received = [];
  const refused = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(ANSI, '');
    let m = TERMINATED.exec(line);
    if (m) { refused.push({ method: m[1].toUpperCase(), path: m[2], why: m[3].trim() }); continue; }
    m = RECEIVED.exec(line);
    if (m) { received.push({ method: m[1].toUpperCase(), path: m[2] }); continue; }
    m = REQUEST_VIOLATION.exec(line);
    if (m && refused.length) {
      // Prism prints the violations of a refused request next to its refusal.
      const last = refused[refused.length - 1];
      last.violations = [...(last.violations || []), m[1].trim()];
    }
  }
  return { received, refused };
}

/**
 * Per-scenario contract check. Call `begin()` before a scenario plays (after
 * nothing of it reached prism), `check(sim)` after it settled and before the
 * simulator is reset: it validates every exchange of `/_sim/log` and reads
 * what prism refused meanwhile.
 * @param {{output: () => string}} prism
 */
export function createContractCheck(prism, { spec = contractSpecPath() } = {}) {
  const { validateExchange } = createValidator(spec);
  let offset = 0;
  const totals = { scenarios: 0, exchanges: 0, viaPrism: 0, direct: 0, failures: 0 };
  return {
    totals,
    begin() { offset = prism.output().length; },
    /**
     * @returns {Promise<{lines: string[], exchanges: number, viaPrism: number, direct: number, byKind: Map<string, number>}>}
     *   `lines`: one readable line per contract break (empty: all good)
     */
    async check(sim) {
      // Prism writes its log line for an answer as it sends it; give a
      // request whose answer the backend got a moment to appear.
      await new Promise((r) => setTimeout(r, 150));
      const log = await sim.log();
      const lines = [];
      let direct = 0;
      const byKind = new Map();
      for (const e of log) {
        const bare = String(e.path).split('?')[0];
        if (TOKEN_CHECK.test(bare) || EVENTS_API.test(bare)) direct += 1;
        const kind = `${e.method} ${bare.replace(/[A-Z]{2}[0-9a-fA-F]{32}/g, '{sid}')} ${e.status}`;
        byKind.set(kind, (byKind.get(kind) || 0) + 1);
        for (const m of validateExchange(e)) {
          lines.push(`answer #${e.seq} to ${e.method} ${e.path} (${e.status}) breaks the contract: ${m}`);
        }
      }
      const { received, refused } = parsePrismOutput(prism.output().slice(offset));
      offset = prism.output().length;
      for (const r of refused) {
        lines.push(`prism refused ${r.method} ${r.path}: ${r.why}${r.violations ? ` (${r.violations.join('; ')})` : ''}`);
      }
      const viaPrism = log.length - direct;
      // Every request prism let through reached the simulator, and only those.
      const forwarded = received.length - refused.length;
      if (forwarded !== viaPrism) {
        lines.push(`prism received ${received.length} request(s) and refused ${refused.length}, but the simulator logged ${viaPrism} REST request(s) besides the token check: some Twilio request bypassed prism or was lost`);
      }
      // The same break repeated (a request retried ten times) is one line.
      const counted = new Map();
      for (const l of lines) counted.set(l, (counted.get(l) || 0) + 1);
      lines.length = 0;
      for (const [l, n] of counted) lines.push(n > 1 ? `${l} (${n} times)` : l);
      totals.scenarios += 1;
      totals.exchanges += log.length;
      totals.viaPrism += viaPrism;
      totals.direct += direct;
      totals.failures += lines.length;
      return { lines, exchanges: log.length, viaPrism, direct, byKind };
    },
  };
}
