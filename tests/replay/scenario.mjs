// Loading and validating scenario files (tests/scenarios/public/README.md).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { REPO_ROOT } from '../harness/processes.mjs';
import { formatSchemaErrors } from './expect.mjs';

const require = createRequire(import.meta.url);

export function schemaPath() {
  return path.resolve(REPO_ROOT, process.env.SCENARIO_SCHEMA || 'tests/scenarios/public/scenario.schema.json');
}

let cached = null;
/** An ajv (JSON Schema 2020-12) validator of scenario.schema.json. */
export async function loadValidator() {
  if (cached) return cached;
  const Ajv2020 = require('ajv/dist/2020.js');
  const addFormats = require('ajv-formats');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const schema = JSON.parse(readFileSync(schemaPath(), 'utf8'));
  cached = ajv.compile(schema);
  return cached;
}

/** The scenario files named by the command line: a directory means its *.json files except the schema, sorted. */
export function expandScenarioArgs(args) {
  const files = [];
  for (const arg of args) {
    const st = statSync(arg, { throwIfNoEntry: false });
    if (!st) throw new Error(`no such file or directory: ${arg}`);
    if (st.isDirectory()) {
      const names = readdirSync(arg)
        .filter((n) => n.endsWith('.json') && n !== 'scenario.schema.json')
        .sort();
      files.push(...names.map((n) => path.join(arg, n)));
    } else {
      files.push(arg);
    }
  }
  return files;
}

/**
 * Read and validate one file. Returns `{file, label, scenario}` or
 * `{file, label, error}`; `label` is the scenario's name when it has one.
 */
export async function loadScenario(file) {
  const label = path.basename(file);
  let scenario;
  try {
    scenario = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { file, label, error: `not valid JSON: ${err.message}` };
  }
  const name = scenario && typeof scenario.name === 'string' && scenario.name ? scenario.name : label;
  const validate = await loadValidator();
  if (!validate(scenario)) {
    return { file, label: name, error: `does not validate against scenario.schema.json: ${formatSchemaErrors(validate.errors)}` };
  }
  return { file, label: name, scenario };
}
