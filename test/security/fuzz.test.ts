/**
 * Fuzzing from the outside: every route of the server's own OpenAPI document and every
 * JSON-RPC method gets a few thousand generated requests, mostly almost-valid (one field
 * wrong, missing or hostile) and some plain garbage. None may be answered 5xx, every error
 * must use the one error body, and the server must be healthy afterwards.
 *
 * The generator is seeded (PATCHBAY_FUZZ_SEED reruns a failure; the seed is in the message).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, RpcClient, startServer, tempDir, type ServerHandle } from '../e2e/helpers.js';

type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  nullable?: boolean;
};

interface Operation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

const SEED = Number(process.env.PATCHBAY_FUZZ_SEED ?? Date.now() % 1_000_000);
const CASES_PER_ROUTE = 45;
const CASES_PER_METHOD = 80;

/** mulberry32: small, fast, reproducible. */
function createRng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof createRng>;

const HOSTILE_STRINGS = [
  '',
  ' ',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  'a\u0000b',
  '\u202e\u200b',
  '😀'.repeat(50),
  'x'.repeat(5000),
  "'; drop table runs; --",
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  '$(id)',
  '`id`',
  '-rf',
  '--help',
  '\\\\server\\share',
  '/dev/zero',
  '/proc/self/environ',
  'https://127.0.0.1/x',
  'http://169.254.169.254/latest/meta-data/',
  'file:///etc/passwd',
  '0 0 31 2 *',
  '* * * * * * *',
  'run_00000000000000000000000000',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '1e308',
];
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 63),
  1e308,
  [],
  {},
  [[[[[]]]]],
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
  Array.from({ length: 300 }, (_, i) => i),
];

function resolveRef(doc: Record<string, unknown>, schema: Schema): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i++) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], doc) as Schema;
  }
  return s;
}

/** A value for `schema`: valid-looking, with a chance of something hostile at every level. */
function generate(doc: Record<string, unknown>, raw: Schema, rng: Rng, depth = 0): unknown {
  const schema = resolveRef(doc, raw);
  if (rng.chance(0.06))
    return rng.chance(0.5) ? rng.pick(HOSTILE_VALUES) : rng.pick(HOSTILE_STRINGS);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length) return generate(doc, rng.pick(variants), rng, depth);
  if (schema.allOf?.length) return generate(doc, schema.allOf[0]!, rng, depth);
  if (schema.enum?.length) return rng.pick(schema.enum);
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        const required = schema.required?.includes(name) ?? false;
        if (depth > 4 || (!required && rng.chance(0.6)) || (required && rng.chance(0.05))) continue;
        out[name] = generate(doc, prop, rng, depth + 1);
      }
      if (rng.chance(0.05)) out[rng.pick(HOSTILE_STRINGS) || 'extra'] = rng.pick(HOSTILE_VALUES);
      return out;
    }
    case 'array':
      return depth > 4
        ? []
        : Array.from({ length: rng.int(0, 4) }, () =>
            generate(doc, schema.items ?? {}, rng, depth + 1),
          );
    case 'integer':
    case 'number': {
      const lo = schema.minimum ?? -10;
      const hi = Math.min(schema.maximum ?? 1000, lo + 100_000);
      const n = rng.chance(0.8) ? rng.int(lo, hi) : rng.pick([lo - 1, hi + 1, 0.5, 2 ** 53]);
      return type === 'integer' || rng.chance(0.7) ? Math.trunc(n) : n + 0.25;
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'string': {
      if (schema.format === 'uri')
        return rng.pick(['https://127.0.0.1/x', 'https://x.invalid/', 'ftp://a']);
      if (schema.format === 'date-time')
        return rng.pick([new Date().toISOString(), '2026-13-45T99:99:99Z']);
      if (rng.chance(0.3)) return rng.pick(HOSTILE_STRINGS);
      const len = rng.int(schema.minLength ?? 0, Math.min(schema.maxLength ?? 12, 40));
      return Array.from({ length: len }, () => rng.pick([...'abcxyz019_-./ '])).join('');
    }
    default:
      return rng.chance(0.5) ? rng.pick(HOSTILE_STRINGS) : rng.pick(HOSTILE_VALUES);
  }
}

const isErrorBody = (body: unknown): boolean => {
  const error = (body as { error?: { code?: unknown; message?: unknown; requestId?: unknown } })
    ?.error;
  return (
    typeof error?.code === 'string' &&
    typeof error.message === 'string' &&
    typeof error.requestId === 'string'
  );
};

let server: ServerHandle;
let doc: Record<string, unknown>;

beforeAll(async () => {
  const roots = tempDir();
  server = await startServer({
    env: {
      // Whatever the generator builds, only `true` may be spawned and no agent CLI exists.
      PATCHBAY_ALLOWED_COMMANDS: 'true',
      PATCHBAY_WORKSPACE_ROOTS: roots,
      PATCHBAY_AGENT_CLAUDE_BIN: '/nonexistent/claude',
      PATCHBAY_AGENT_CURSOR_BIN: '/nonexistent/cursor-agent',
      PATCHBAY_AGENT_CODEX_BIN: '/nonexistent/codex',
      PATCHBAY_AGENT_GEMINI_BIN: '/nonexistent/gemini',
      PATCHBAY_RUN_CREATE_RATE_LIMIT: '100000',
      PATCHBAY_CALLBACK_MAX_ATTEMPTS: '1',
    },
  });
  const res = await fetch(`${server.url}/docs/json`);
  doc = (await res.json()) as Record<string, unknown>;
});
afterAll(cleanupAll);

describe(`fuzz (seed ${SEED})`, () => {
  it('no REST request is answered 5xx, and every error uses the error body', async () => {
    const rng = createRng(SEED);
    const failures: string[] = [];
    const paths = doc.paths as Record<string, Record<string, Operation>>;
    let sent = 0;
    for (const [template, operations] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(operations)) {
        for (let i = 0; i < CASES_PER_ROUTE; i++) {
          let path = template;
          const query = new URLSearchParams();
          for (const p of op.parameters ?? []) {
            const value = generate(doc, p.schema ?? {}, rng);
            const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
            if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(text));
            else if (p.in === 'query' && rng.chance(0.6)) query.set(p.name, text);
          }
          const schema = op.requestBody?.content?.['application/json']?.schema;
          let body: string | undefined;
          let type = 'application/json';
          if ((schema || rng.chance(0.1)) && method !== 'get' && method !== 'head') {
            const roll = rng.next();
            if (roll < 0.85) body = JSON.stringify(generate(doc, schema ?? {}, rng));
            else if (roll < 0.93)
              body = rng.pick(['{', '[1,', '"\\ud800"', '{"a":1}{"b":2}', 'null']);
            else {
              body = 'a=1&b=2';
              type = rng.pick([
                'text/plain',
                'application/x-www-form-urlencoded',
                'application/xml',
              ]);
            }
          }
          const qs = query.toString();
          const url = `${server.url}${path}${qs ? `?${qs}` : ''}`;
          const shown = url.length > 200 ? `${url.slice(0, 200)}…` : url;
          const res = await fetch(url, {
            method: method.toUpperCase(),
            headers: body === undefined ? {} : { 'content-type': type },
            body,
          }).catch((err: unknown) => {
            failures.push(`${method.toUpperCase()} ${shown}: ${String(err)}`);
            return undefined;
          });
          sent++;
          if (!res) continue;
          const text = await res.text();
          if (res.status >= 500) {
            failures.push(
              `${res.status} ${method.toUpperCase()} ${shown} body=${body?.slice(0, 300)} → ${text.slice(0, 300)}`,
            );
          } else if (res.status >= 400 && !isErrorBody(JSON.parse(text || 'null'))) {
            failures.push(
              `${res.status} without the error body: ${method.toUpperCase()} ${shown} → ${text.slice(0, 200)}`,
            );
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(1500);
    expect(failures, `seed ${SEED}`).toEqual([]);
  }, 240_000);

  it('no JSON-RPC call gets an internal error, and the server is healthy afterwards', async () => {
    const rng = createRng(SEED + 1);
    const methods = [
      'run.create',
      'run.get',
      'run.list',
      'run.cancel',
      'run.pause',
      'run.resume',
      'run.interrupt',
      'run.subscribe',
      'run.unsubscribe',
      'no.such.method',
    ];
    const runsPath = (doc.paths as Record<string, Record<string, Operation>>)['/v1/runs']!;
    const createSchema = runsPath.post!.requestBody!.content!['application/json']!.schema!;
    const paramsSchema: Schema = {
      type: 'object',
      properties: {
        id: { type: 'string' },
        after: { type: 'integer', minimum: 0 },
        limit: { type: 'integer', minimum: 1, maximum: 200 },
        cursor: { type: 'string' },
      },
    };
    const rpc = await RpcClient.connect(`ws://127.0.0.1:${server.port}/v1/ws`);
    const failures: string[] = [];
    for (const method of methods) {
      for (let i = 0; i < CASES_PER_METHOD; i++) {
        const params =
          method === 'run.create' && rng.chance(0.7)
            ? generate(doc, createSchema, rng)
            : generate(doc, paramsSchema, rng);
        const reply = await rpc.call(method, params, 15_000);
        const code = (reply.error?.data as { code?: string } | undefined)?.code;
        if (reply.error && (reply.error.code === -32603 || code === 'INTERNAL_ERROR')) {
          failures.push(
            `${method} ${JSON.stringify(params).slice(0, 300)} → ${JSON.stringify(reply.error)}`,
          );
        }
      }
    }
    for (const text of ['', '{', '[]', '[1,2,3]', '{"jsonrpc":"1.0","method":"run.list","id":1}']) {
      const reply = (await rpc.sendRaw(text)) as { error?: { code: number } } | unknown[];
      expect(reply).toBeTruthy();
    }
    rpc.close();
    expect(failures, `seed ${SEED}`).toEqual([]);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(server.proc.exitCode).toBeNull();
  }, 240_000);
});
