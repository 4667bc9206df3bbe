#!/usr/bin/env node
// `make demo`: starts the Twilio simulator and the backend (the same binaries
// and environment as the replay runner; ports 8788 and 8787 unless taken) and
// serves the demo page, which loads the built plugin bundle into simulated Flex
// tabs. Serves on 127.0.0.1:8080, or any free port when 8080 is taken; with
// DEMO_PORT set, on that port or not at all. Ctrl-C stops everything.

import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT, SIM_ACCOUNT, bundlePath, freePort, missingParts, startBackend, startSim, startStaticServer,
} from '../harness/processes.mjs';
import { createSimClient } from '../harness/sim-client.js';

const OUT = path.join(REPO_ROOT, 'tests/.out/demo');

async function main() {
  const missing = missingParts({ bundle: false });
  if (missing.length) {
    console.error(`make demo: cannot start, missing:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
  const bundle = bundlePath();
  if (!existsSync(bundle)) console.error(`warning: ${bundle} does not exist yet; the Flex tabs will say so until it is built`);

  const sim = await startSim({ port: await freePort(8788), logFile: path.join(OUT, 'twilio-sim.log') });
  // The backend reads its recording policy at start: the demo page's rules
  // (tests/demo/demo.js `config()`, which puts them again on every reset).
  await createSimClient(sim.url).putFlexConfiguration({
    uiAttributes: { custom_data: { features: { dual_channel_recording: { enabled: true, channel: 'customer', exclude_attributes: [{ key: 'customer.preferences.privacy', value: 'no-recording' }], exclude_queues: ['Billing'] } } } },
    callRecordingEnabled: false,
  });
  const backend = await startBackend({ port: await freePort(8787), simUrl: sim.url, logFile: path.join(OUT, 'recording-backend.log') });
  const port = process.env.DEMO_PORT ? Number(process.env.DEMO_PORT) : await freePort(8080);
  let files;
  try {
    files = await startStaticServer({
      port,
      routes: {
        '/': path.join(REPO_ROOT, 'tests/demo/index.html'),
        '/bundle.js': bundle,
        '/demo-config.json': (req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({
            simUrl: sim.url,
            backendUrl: backend.url,
            backendHost: `127.0.0.1:${backend.port}`,
            accountSid: SIM_ACCOUNT.accountSid,
            workerSid: 'WK00000000000000000000000000000001',
          }));
        },
      },
      dirs: {
        '/demo/': path.join(REPO_ROOT, 'tests/demo'),
        '/harness/': path.join(REPO_ROOT, 'tests/harness'),
      },
    });
  } catch (err) {
    console.error(`make demo: cannot serve on 127.0.0.1:${port} (${err.code || err.message}); set DEMO_PORT to a free port`);
    await backend.stop();
    await sim.stop();
    process.exit(1);
  }
  console.log(`twilio-sim        ${sim.url}   (log: ${path.relative(REPO_ROOT, OUT)}/twilio-sim.log)`);
  console.log(`recording-backend ${backend.url}   (log: ${path.relative(REPO_ROOT, OUT)}/recording-backend.log)`);
  console.log(`plugin bundle     ${path.relative(REPO_ROOT, bundle)}`);
  console.log('');
  console.log(`Demo page: ${files.url}/`);
  console.log('Ctrl-C to stop.');

  const shutdown = async () => {
    await files.close().catch(() => {});
    await backend.stop().catch(() => {});
    await sim.stop().catch(() => {});
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(`make demo: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
