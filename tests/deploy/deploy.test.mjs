// The deploy files (Containerfile, .dockerignore, deploy/) checked against
// the code as it is: an image build or a systemd start fails on a workspace
// member the image does not copy, a variable the binary does not know, or a
// command line it refuses. No container engine runs here, so the image
// itself is not built (README: `make image`); what the image and the unit
// would run is run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  REPO_ROOT, SIM_ACCOUNT, backendBin, freePort, missingParts, startProcess, startSim,
} from '../harness/processes.mjs';

const read = (p) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

/** `KEY=value` lines of an environment file; `commented` also takes `#KEY=value`. */
function envLines(text, { commented = false } = {}) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && (commented || m[1] === '')) out.push({ key: m[2], value: m[3], commented: m[1] === '#' });
  }
  return out;
}

/**
 * The example environment file as an operator fills it in: the placeholders
 * become the simulator's account (`overrides` on top), the rest stays as
 * written.
 */
function exampleEnv(overrides = {}) {
  const fill = {
    TWILIO_ACCOUNT_SID: SIM_ACCOUNT.accountSid,
    TWILIO_FLEX_WORKSPACE_SID: SIM_ACCOUNT.workspaceSid,
    TWILIO_API_KEY: SIM_ACCOUNT.apiKey,
    TWILIO_API_SECRET: SIM_ACCOUNT.apiSecret,
    ...overrides,
  };
  const env = {};
  for (const { key, value } of envLines(read('deploy/recording-backend.env.example'))) env[key] = fill[key] ?? value;
  for (const k of Object.keys(fill)) assert.ok(k in env, `the example file does not set ${k}`);
  return env;
}

/** The Containerfile's HEALTHCHECK `--start-period`, in milliseconds. */
const START_PERIOD_MS = (() => {
  const m = /HEALTHCHECK[^\n]*--start-period=(\d+)s/.exec(read('Containerfile'));
  assert.ok(m, 'the HEALTHCHECK has a --start-period in seconds');
  return Number(m[1]) * 1000;
})();

/** The HEALTHCHECK command (its exec-form JSON) against `port`, until it passes or `withinMs` is over; its last run. */
async function healthcheckWithin(cmdJson, port, withinMs) {
  const cmd = JSON.parse(cmdJson);
  const args = cmd.slice(1).map((a) => a.replace(/:8787$/, `:${port}`));
  const until = Date.now() + withinMs;
  for (;;) {
    const probe = spawnSync(backendBin(), args, { encoding: 'utf8' });
    if (probe.status === 0 || Date.now() > until) return probe;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The `[workspace] members` of the root Cargo.toml. */
function workspaceMembers() {
  const m = /members\s*=\s*\[([^\]]*)\]/.exec(read('Cargo.toml'));
  assert.ok(m, 'Cargo.toml has a [workspace] members list');
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
}

/** Sources of the Containerfile's `COPY` lines from the build context (not `--from`). */
function contextCopies() {
  const sources = [];
  for (const line of read('Containerfile').split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'COPY' || words.some((w) => w.startsWith('--from'))) continue;
    sources.push(...words.slice(1, -1));
  }
  return sources;
}

test('the image copies every workspace member, and .dockerignore lets each copied path in', () => {
  const copies = contextCopies();
  // cargo reads every member's manifest, even with `-p recording-backend`.
  const needed = workspaceMembers().flatMap((m) => (m === '.' ? ['Cargo.toml', 'Cargo.lock', 'src'] : [m]));
  for (const n of needed) assert.ok(copies.includes(n), `Containerfile does not COPY ${n} (a workspace member's files)`);
  const allowed = new Set(read('.dockerignore').split('\n')
    .map((l) => l.trim()).filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, '')));
  for (const c of copies) {
    assert.ok(existsSync(path.join(REPO_ROOT, c)), `Containerfile copies ${c}, which does not exist`);
    assert.ok(allowed.has(c), `.dockerignore excludes everything and does not let ${c} back in`);
  }
});

test('every variable the example environment file names is one the backend documents', () => {
  const help = spawnSync(backendBin(), ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const documented = help.stdout.slice(help.stdout.indexOf('Environment:'));
  const named = envLines(read('deploy/recording-backend.env.example'), { commented: true });
  assert.ok(named.length >= 10, `only ${named.length} variables found`);
  for (const { key } of named) {
    assert.match(documented, new RegExp(`\\b${key}\\b`), `${key} is in the example file but not in recording-backend --help`);
  }
});

test('the example environment file holds every variable the backend documents, each with a comment', () => {
  const help = spawnSync(backendBin(), ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const section = help.stdout.slice(help.stdout.indexOf('Environment:'));
  const documented = new Set();
  for (const line of section.split('\n').slice(1)) {
    const names = /^\s{2}([A-Z][A-Z0-9_]*(?:,\s*[A-Z][A-Z0-9_]*)*)\s/.exec(line);
    if (names) for (const n of names[1].split(/,\s*/)) documented.add(n);
  }
  assert.ok(documented.size >= 10, `only ${documented.size} variables found in --help`);
  const lines = read('deploy/recording-backend.env.example').split('\n');
  for (const name of documented) {
    const at = lines.findIndex((l) => new RegExp(`^#?${name}=`).test(l.trim()));
    assert.ok(at >= 0, `${name} is documented by recording-backend --help but missing from the example environment file`);
    // The variable's block (the lines of variables just above it) is headed by a comment in words.
    let i = at - 1;
    while (i >= 0 && /^#?[A-Z][A-Z0-9_]*=/.test(lines[i].trim())) i -= 1;
    assert.ok(i >= 0 && /^#\s+\S/.test(lines[i].trim()), `${name} has no comment above it in the example environment file`);
  }
});

test("the README's Rust version is the workspace's rust-version", () => {
  const declared = /^rust-version\s*=\s*"([0-9.]+)"/m.exec(read('Cargo.toml'));
  assert.ok(declared, 'Cargo.toml declares rust-version');
  const said = /Rust (\d+\.\d+(?:\.\d+)?) or newer/.exec(read('README.md'));
  assert.ok(said, 'README.md says "Rust X.Y or newer"');
  assert.equal(said[1], declared[1], 'README.md and Cargo.toml name different Rust versions');
});

test("the unit's and the image's command lines start the backend with the example environment; the image's HEALTHCHECK passes; SIGTERM stops it cleanly", async (t) => {
  const missing = missingParts({ bundle: false });
  if (missing.length) { t.skip(missing.join('; ')); return; }
  const sim = await startSim();
  t.after(() => sim.stop());

  // The example file as an operator fills it in: the placeholders become
  // the simulator's account, the rest stays as written (LOG_FORMAT=json).
  const secret = SIM_ACCOUNT.apiSecret;
  const env = exampleEnv();
  assert.equal(env.LOG_FORMAT, 'json');

  const unit = read('deploy/recording-backend.service');
  const exec = /^ExecStart=(\S+)\s+(.*)$/m.exec(unit);
  assert.ok(exec, 'the unit has an ExecStart line');
  assert.equal(path.basename(exec[1]), 'recording-backend');
  const image = /^ENTRYPOINT\s+(\[.*\])$/m.exec(read('Containerfile'));
  assert.ok(image, 'the Containerfile has an exec-form ENTRYPOINT');
  const health = /HEALTHCHECK[^\n]*\\\n\s*CMD\s+(\[.*\])/m.exec(read('Containerfile'));
  assert.ok(health, 'the Containerfile has an exec-form HEALTHCHECK CMD');

  for (const [name, argv] of [['systemd unit', exec[2].split(/\s+/)], ['image ENTRYPOINT', JSON.parse(image[1]).slice(1)]]) {
    // The same arguments on a free port, Twilio's hosts replaced by the simulator.
    const port = await freePort();
    const args = argv.map((a) => a.replace(/:8787$/, `:${port}`)).concat(['--twilio-base-url', sim.url]);
    assert.ok(args.some((a) => a.endsWith(`:${port}`)), `${name}: no --listen address on port 8787 to move`);
    const lines = [];
    const proc = await startProcess({ name, bin: backendBin(), args, env });
    proc.child.stdout.on('data', (c) => lines.push(...c.toString().split('\n')));
    proc.child.stderr.on('data', (c) => lines.push(...c.toString().split('\n')));

    const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(healthz.status, 200, `${name}: /healthz`);
    // Within the HEALTHCHECK's start period, once Twilio accepted the credentials.
    const probe = await healthcheckWithin(health[1], port, START_PERIOD_MS);
    assert.equal(probe.status, 0, `${name}: the HEALTHCHECK command: ${probe.stdout}${probe.stderr}`);

    proc.child.kill('SIGTERM');
    const { code, signal } = await proc.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${name}: SIGTERM is a clean stop`);
    // Every line, stdout's and stderr's, is one JSON object, and no secret is in any.
    const logged = lines.filter((l) => l.trim() !== '');
    assert.ok(logged.length >= 2, `${name}: log lines: ${logged.join('\n')}`);
    for (const l of logged) {
      let o;
      assert.doesNotThrow(() => { o = JSON.parse(l); }, `${name}: not a JSON line: ${l}`);
      for (const k of ['timestamp', 'level', 'message']) assert.ok(k in o, `${name}: ${k} missing in ${l}`);
    }
    assert.ok(logged.some((l) => JSON.parse(l).message === 'stopped'), `${name}: no "stopped" line`);
    assert.ok(!logged.some((l) => l.includes(secret)), `${name}: the API secret was logged`);
  }
});

test("the image's HEALTHCHECK is readiness: with credentials Twilio refuses it fails and says why, while /healthz stays alive", async (t) => {
  const missing = missingParts({ bundle: false });
  if (missing.length) { t.skip(missing.join('; ')); return; }
  const sim = await startSim();
  t.after(() => sim.stop());
  const health = /HEALTHCHECK[^\n]*\\\n\s*CMD\s+(\[.*\])/m.exec(read('Containerfile'));
  assert.ok(health, 'the Containerfile has an exec-form HEALTHCHECK CMD');
  const image = /^ENTRYPOINT\s+(\[.*\])$/m.exec(read('Containerfile'));
  const port = await freePort();
  const args = JSON.parse(image[1]).slice(1).map((a) => a.replace(/:8787$/, `:${port}`)).concat(['--twilio-base-url', sim.url]);
  const proc = await startProcess({ name: 'image ENTRYPOINT', bin: backendBin(), args, env: exampleEnv({ TWILIO_API_SECRET: 'a-revoked-secret' }) });
  t.after(() => proc.stop());

  const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(healthz.status, 200, '/healthz: the process is alive');
  // Not ready, for the whole start period and after it.
  const probe = await healthcheckWithin(health[1], port, 3000);
  assert.equal(probe.status, 1, `the HEALTHCHECK passed with a secret Twilio refuses: ${probe.stdout}${probe.stderr}`);
  assert.match(probe.stderr, /not ready: Twilio refuses the credentials \(error 20003, HTTP 401\)/);
  const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(readyz.status, 503);
  const body = await readyz.json();
  assert.equal(body.ready, false);
  assert.match(body.reason, /TWILIO_API_KEY\/TWILIO_API_SECRET/);
});

test('make help lists every target of the Makefile', () => {
  const makefile = read('Makefile');
  const phony = /^\.PHONY:((?:[^\n]*\\\n)*[^\n]*)$/m.exec(makefile);
  assert.ok(phony, 'the Makefile has a .PHONY list');
  const declared = phony[1].replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);
  const rules = [...makefile.matchAll(/^([a-z][a-z0-9-]*):(?!=)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(rules)].sort(), [...new Set(declared)].sort(), 'the .PHONY list and the rules name different targets');
  const help = spawnSync('make', ['--no-print-directory', '-C', REPO_ROOT, 'help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  for (const target of declared) {
    assert.match(help.stdout, new RegExp(`^\\s*make ${target}(?=\\s|$)`, 'm'), `make help does not list ${target}`);
  }
});
