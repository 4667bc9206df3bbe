#!/usr/bin/env node
// Replay runner: node tests/replay/replay.mjs [--browser] [--via-prism] [--flex-actions] [--verbose] FILE_OR_DIR ...
//
// Plays each scenario (tests/scenarios/public/README.md) through the real plugin
// bundle in simulated Flex instances, against the real backend and the Twilio
// simulator. One line per scenario (`PASS name` / `FAIL name: why`), then
// `N passed, M failed`; exit status 0 only if none failed.
//
// --via-prism (issue 5's contract test): the backend reaches the simulator
// through `prism proxy --errors` with tests/contract/twilio-openapi (the token check
// goes straight to the simulator: it is not in those files). After each
// scenario every simulator answer is validated against the response schema
// of its path, and prism's own log is read for refused requests; any break
// fails the scenario, with one indented `contract:` line per break.
//
// --flex-actions (Node only): hang-up and completion run through Flex's own
// Actions framework from @twilio/flex-ui (tests/harness/real-flex-actions.mjs)
// instead of the simulator's, one Actions per instance.
//
// Environment: TWILIO_SIM_BIN (default target/debug/twilio-sim), BACKEND_BIN
// (default target/debug/recording-backend), PLUGIN_BUNDLE (default
// plugin-shim/dist/plugin-dual-channel-recording.js), SCENARIO_SCHEMA (default
// tests/scenarios/public/scenario.schema.json), CHROMIUM_BIN (default
// /usr/bin/chromium). Logs of each scenario and of both servers: tests/.out/replay/.

import path from 'node:path';
import { missingParts } from '../harness/processes.mjs';
import { closeEnvironment, createEnvironment, runScenario } from './runner.mjs';
import { expandScenarioArgs, loadScenario } from './scenario.mjs';

const USAGE = 'usage: node tests/replay/replay.mjs [--browser] [--via-prism] [--flex-actions] [--verbose] FILE_OR_DIR ...';

async function main(argv) {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const paths = argv.filter((a) => !a.startsWith('--'));
  for (const f of flags) {
    if (!['--browser', '--via-prism', '--flex-actions', '--verbose', '--help'].includes(f)) {
      console.error(`unknown option ${f}\n${USAGE}`);
      return 2;
    }
  }
  if (flags.has('--help') || paths.length === 0) {
    console.error(USAGE);
    return flags.has('--help') ? 0 : 2;
  }
  const browser = flags.has('--browser');
  const verbose = flags.has('--verbose');
  const viaPrism = flags.has('--via-prism');
  const flexActions = flags.has('--flex-actions');

  let files;
  try {
    files = expandScenarioArgs(paths);
  } catch (err) {
    console.error(err.message);
    return 2;
  }
  const loaded = [];
  for (const file of files) loaded.push(await loadScenario(file));

  let passed = 0;
  let failed = 0;
  const report = (ok, label, why) => {
    if (ok) { passed += 1; console.log(`PASS ${label}`); } else { failed += 1; console.log(`FAIL ${label}: ${why}`); }
  };

  let env = null;
  let cannotRun = null;
  if (loaded.some((l) => l.scenario)) {
    const missing = missingParts();
    if (missing.length) {
      cannotRun = `cannot run: missing ${missing.join('; ')}`;
    } else {
      try {
        env = await createEnvironment({ browser, echo: verbose, viaPrism, flexActions });
      } catch (err) {
        cannotRun = `cannot run: ${err.message.replace(/\n/g, ' | ')}`;
      }
    }
  }

  process.on('unhandledRejection', (reason) => {
    const line = `unhandled rejection: ${reason && reason.stack ? reason.stack : reason}`;
    if (runScenario.currentLog) runScenario.currentLog(line); else if (verbose) console.error(line);
  });

  try {
    for (const item of loaded) {
      if (item.error) { report(false, item.label, item.error); continue; }
      if (cannotRun) { report(false, item.label, cannotRun); continue; }
      const logName = path.basename(item.file).replace(/\.json$/, '');
      const result = await runScenario(item.scenario, env, logName);
      report(result.ok, item.label, result.ok ? '' : `${result.why} [log: ${path.relative(process.cwd(), result.logFile)}]`);
      for (const line of result.contractLines || []) console.log(`  contract: ${line}`);
    }
  } finally {
    if (env) await closeEnvironment(env);
  }
  if (env && env.contract) {
    const t = env.contract.totals;
    console.log(`contract: ${t.exchanges} simulator answers validated over ${t.scenarios} scenarios (${t.viaPrism} through prism --errors, ${t.direct} direct: token checks and the Event Streams set-up); ${t.failures} contract violation(s)`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; setTimeout(() => process.exit(code), 200).unref(); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
