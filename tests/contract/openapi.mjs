// Validates simulator answers against Twilio's own OpenAPI 3.0 description.
// Prism's proxy checks requests only (tests/contract/twilio-openapi/README.md), so
// this is what proves the simulator answers the way Twilio does.

import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

// Keywords OpenAPI adds to JSON Schema that carry no validation meaning.
const OPENAPI_ONLY = new Set([
  'example', 'examples', 'description', 'summary', 'title', 'xml',
  'externalDocs', 'deprecated', 'readOnly', 'writeOnly', 'discriminator',
]);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** `Wed, 25 Nov 2026 09:00:00 +0000`, with a weekday that fits the date. */
function isRfc2822(s) {
  const m = RFC2822.exec(s);
  if (!m) return false;
  const [, wd, dd, mon, yyyy, hh, mi, ss, , oh, om] = m;
  if (Number(oh) > 23 || Number(om) > 59) return false;
  const local = Date.UTC(Number(yyyy), MONTHS.indexOf(mon), Number(dd), Number(hh), Number(mi), Number(ss));
  const d = new Date(local);
  // Date.UTC rolls over impossible dates (31 Feb); reject those.
  if (d.getUTCDate() !== Number(dd) || d.getUTCHours() !== Number(hh) || Number(mi) > 59 || Number(ss) > 60) {
    return false;
  }
  // The weekday names the date as written (local to its offset).
  return WEEKDAYS[d.getUTCDay()] === wd;
}

// Twilio's own answers (and the spec's examples) put paths such as
// `/2010-04-01/Accounts/AC.../Recordings.json?Page=0` in `format: uri`
// fields, so an absolute path is accepted besides an absolute URI.
const ABSOLUTE_URI = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#]+[^\s]*$/i;
const ABSOLUTE_PATH = /^\/[^\s]*$/;
const isTwilioUri = (s) => ABSOLUTE_URI.test(s) || ABSOLUTE_PATH.test(s);

/** Twilio's error body, for statuses the spec does not describe. */
const TWILIO_ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message', 'more_info', 'status'],
  properties: {
    code: { type: 'integer' },
    message: { type: 'string', minLength: 1 },
    more_info: { type: 'string', format: 'uri' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
  },
};

const nullableString = { type: ['string', 'null'] };

/**
 * The IAM token check is not in Twilio's OpenAPI files; this schema is
 * written from the answer `twilio-flex-token-validator` documents
 * (tests/contract/twilio-openapi/README.md).
 */
const TOKEN_VALIDATE_SCHEMA = {
  type: 'object',
  required: ['valid', 'code', 'message'],
  properties: {
    valid: { type: 'boolean' },
    code: { type: 'integer' },
    message: nullableString,
    expiration: { type: ['string', 'null'], format: 'date-time' },
    realm_user_id: nullableString,
    identity: nullableString,
    roles: { type: ['array', 'null'], items: { type: 'string' } },
    worker_sid: { type: ['string', 'null'], pattern: '^WK[0-9a-fA-F]{32}$' },
  },
  if: { properties: { valid: { const: true } } },
  then: {
    required: ['expiration', 'realm_user_id', 'identity', 'roles', 'worker_sid'],
    properties: {
      code: { const: 0 },
      message: { type: 'null' },
      expiration: { type: 'string' },
      identity: { type: 'string' },
      roles: { type: 'array' },
    },
  },
  else: {
    properties: { code: { not: { const: 0 } }, message: { type: 'string' } },
  },
};

const EXTRA_OPERATIONS = [
  {
    method: 'post',
    template: '/v1/Accounts/{AccountSid}/Tokens/validate',
    responses: { 200: TOKEN_VALIDATE_SCHEMA },
  },
];

/**
 * OpenAPI 3.0 schema -> JSON Schema (draft 7, as Ajv's default):
 * `nullable` becomes a `null` type, component refs point into `$defs`,
 * OpenAPI-only and `x-` keywords go. With `requireAll`, every listed
 * property becomes required, since Twilio always sends each field of its
 * resources (null when empty) and a missing one is a contract break.
 */
function toJsonSchema(node, requireAll) {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, requireAll));
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (OPENAPI_ONLY.has(k) || k.startsWith('x-') || k === 'nullable') continue;
    if (k === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(v).map(([name, s]) => [name, toJsonSchema(s, requireAll)]),
      );
    } else if (k === '$ref') {
      out.$ref = v.replace(/^#\/components\/schemas\//, '#/$defs/');
    } else {
      out[k] = toJsonSchema(v, requireAll);
    }
  }
  if (out.format === 'uri-map') {
    // Twilio's map of sub-resource links: an object whose values are URIs.
    delete out.format;
    out.additionalProperties = { type: 'string', format: 'uri' };
  }
  if (requireAll && out.properties && !out.required) {
    out.required = Object.keys(out.properties);
  }
  if (node.nullable === true) {
    if (out.$ref) return { anyOf: [{ $ref: out.$ref }, { type: 'null' }] };
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    // Without a type, anything (null included) was allowed already.
  }
  return out;
}

function templateRegex(template) {
  const escaped = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}$`);
}

function newAjv() {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  ajv.addFormat('uri', isTwilioUri);
  ajv.addFormat('date-time-rfc-2822', isRfc2822);
  ajv.addFormat('currency', /^[A-Za-z]{3}$/);
  ajv.addFormat('http-method', /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/);
  return ajv;
}

function describe(errors) {
  return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && e.keyword === 'enum' ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
}

/**
 * @param {string} specPath an OpenAPI 3.0 JSON document
 * @param {{requireAll?: boolean}} [options] requireAll (default true): every
 *   property a schema lists must be present
 * @returns {{validateExchange: (x: {method: string, path: string, status: number, responseBody: unknown}) => string[]}}
 */
export function createValidator(specPath, { requireAll = true } = {}) {
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  const ajv = newAjv();
  const $defs = toJsonSchema(spec.components?.schemas ?? {}, requireAll);

  const operations = [];
  for (const [template, item] of Object.entries(spec.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      const responses = {};
      for (const [status, resp] of Object.entries(op.responses)) {
        const schema = resp?.content?.['application/json']?.schema;
        responses[status] = schema ? toJsonSchema(schema, requireAll) : null;
      }
      operations.push({ method, template, regex: templateRegex(template), responses });
    }
  }
  for (const extra of EXTRA_OPERATIONS) {
    operations.push({ ...extra, regex: templateRegex(extra.template), standalone: true });
  }

  const cache = new Map();
  const compiled = (key, schema, standalone) => {
    if (!cache.has(key)) {
      cache.set(key, ajv.compile(standalone ? schema : { ...schema, $defs }));
    }
    return cache.get(key);
  };
  const errorValidator = ajv.compile(TWILIO_ERROR_SCHEMA);

  function validateExchange({ method, path, status, responseBody }) {
    const bare = String(path).split('?')[0];
    const verb = String(method).toLowerCase();
    const candidates = operations.filter((o) => o.regex.test(bare));
    if (candidates.length === 0) return [`${method} ${bare}: path not in the contract`];
    const op = candidates.find((o) => o.method === verb);
    if (!op) return [`${method} ${bare}: method not in the contract for ${candidates[0].template}`];

    const key = String(status);
    if (key in op.responses || 'default' in op.responses) {
      const chosen = key in op.responses ? key : 'default';
      const schema = op.responses[chosen];
      if (schema === null) {
        // A documented answer without a JSON body (204).
        return responseBody === null || responseBody === undefined || responseBody === ''
          ? []
          : [`${method} ${op.template} ${status}: the contract has no body here`];
      }
      const validate = compiled(`${verb} ${op.template} ${chosen}`, schema, op.standalone);
      return validate(responseBody) ? [] : describe(validate.errors).map((m) => `${method} ${op.template} ${status}: ${m}`);
    }
    if (status >= 400) {
      // Twilio documents its error body once for all paths, not per path.
      const errs = errorValidator(responseBody) ? [] : describe(errorValidator.errors);
      if (responseBody && typeof responseBody === 'object' && responseBody.status !== status) {
        errs.push(`body status ${responseBody.status} differs from HTTP status ${status}`);
      }
      return errs.map((m) => `${method} ${op.template} ${status} (Twilio error body): ${m}`);
    }
    return [`${method} ${op.template}: status ${status} not in the contract`];
  }

  return { validateExchange };
}

export { isRfc2822 };
