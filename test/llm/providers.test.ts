/**
 * Each provider against a scripted server speaking its wire format, no network: a streamed
 * answer (text, reasoning, a tool call, usage with cached, cache-write and reasoning tokens),
 * its price by hand, the ledger row; every error reply mapped to its code in bounded time;
 * retries that wait what `retry-after` says; keys absent from logs and errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { isPatchbayError, type PatchbayError } from '../../src/contracts/index.js';
import { createLlmClient, type LlmStreamPart } from '../../src/llm/index.js';
import { createLogger } from '../../src/observability/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import { ANSWER_TEXT, KEYS, TOOL_CALL, providerCases, type ProviderCase } from './cases.js';

let dir: string;
let store: Store;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patchbay-llm-'));
  store = await openStore({ databaseUrl: join(dir, 'patchbay.db') });
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A logger whose JSON lines land in `lines`. */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger({ level: 'trace', format: 'json', destination }), lines };
}

async function failure(promise: Promise<unknown>): Promise<PatchbayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPatchbayError(err)) throw new Error(`expected a PatchbayError, got ${String(err)}`);
  return err;
}

const ask = { purpose: 'test', messages: [{ role: 'user' as const, content: 'Read src/a.ts' }] };
const tools = [
  {
    name: TOOL_CALL.name,
    description: 'Read a file',
    parameters: {
      type: 'object',
      properties: { path: { type: 'string' }, from: { type: 'integer' } },
      required: ['path'],
    },
  },
];

describe.each(providerCases)('$provider', (c: ProviderCase) => {
  let server: ScriptedServer;

  beforeAll(async () => {
    server = await startScriptedServer(c.prefix);
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => {
    server.reset();
  });

  const clientWith = (overrides: Record<string, string> = {}, retryBaseDelayMs = 5) => {
    const config = loadConfig({
      env: {
        PATCHBAY_DATA_DIR: dir,
        PATCHBAY_LLM_PROVIDER: c.provider,
        PATCHBAY_LLM_MODEL: c.model,
        ...c.env(server.baseUrl),
        ...overrides,
      },
      cwd: dir,
    });
    const captured = capturedLogger();
    const client = createLlmClient({
      config,
      ledger: store.llmCalls,
      log: captured.log,
      retryBaseDelayMs,
    });
    return { client, lines: captured.lines };
  };

  it('streams text, reasoning and a tool call, then usage and its price; the ledger records it', async () => {
    const { client } = clientWith();
    server.enqueue(c.answer);
    const runId = `run_${c.provider}`;
    const parts: LlmStreamPart[] = [];
    for await (const part of client.stream({
      ...ask,
      tools,
      runId,
      reasoning: { effort: 'low' },
    })) {
      parts.push(part);
    }
    const text = parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
    expect(text).toBe(ANSWER_TEXT);
    const reasoning = parts.flatMap((p) => (p.type === 'reasoning' ? [p.text] : [])).join('');
    expect(reasoning).toBe(c.reasoningText);
    // Text arrived in more than one delta: it was streamed, not delivered whole.
    expect(parts.filter((p) => p.type === 'text').length).toBeGreaterThan(1);
    const calls = parts.flatMap((p) => (p.type === 'tool_call' ? [p.call] : []));
    expect(calls).toEqual([
      { id: expect.any(String), name: TOOL_CALL.name, input: TOOL_CALL.args },
    ]);
    const finish = parts.at(-1)!;
    expect(finish.type).toBe('finish');
    if (finish.type !== 'finish') return;
    const { raw, ...tokens } = finish.result.usage;
    expect(tokens).toEqual(c.usage);
    expect(raw).toBeTruthy();
    if (c.usd === null) expect(finish.result.costUsd).toBeNull();
    else expect(finish.result.costUsd, c.usdWorking).toBeCloseTo(c.usd, 10);
    expect(finish.result).toMatchObject({ provider: c.provider, model: c.model, attempts: 1 });

    const [request] = server.requests;
    expect(request!.path).toMatch(c.path);
    expect(c.keyHeader(request!.headers)).toBe(KEYS[c.provider]);

    const [row] = await store.llmCalls.listByRun(runId);
    expect(row).toMatchObject({
      runId,
      purpose: 'test',
      provider: c.provider,
      model: c.model,
      inputTokens: c.usage.input,
      outputTokens: c.usage.output,
      cacheReadTokens: c.usage.cacheRead,
      cacheWriteTokens: c.usage.cacheWrite,
      reasoningTokens: c.usage.reasoning,
      outcome: 'succeeded',
      attempts: 1,
    });
    expect(row!.costUsd).toBe(finish.result.costUsd);
    expect(row!.rawUsage).toEqual(JSON.parse(JSON.stringify(raw)));
  });

  it('complete() gives the same result without streaming to the caller', async () => {
    const { client } = clientWith();
    server.enqueue(c.answer);
    const result = await client.complete({ ...ask, tools });
    expect(result.text).toBe(ANSWER_TEXT);
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls).toHaveLength(1);
  });

  it.each([
    ['auth', 'LLM_AUTH_FAILED', 1],
    ['contextTooLong', 'LLM_CONTEXT_TOO_LONG', 1],
    // Retryable: 1 try + PATCHBAY_LLM_MAX_RETRIES (2 here), then the code.
    ['server', 'LLM_OVERLOADED', 3],
    ['overloaded', 'LLM_OVERLOADED', 3],
  ] as const)('maps %s to %s after %i request(s), in bounded time', async (kind, code, tries) => {
    const { client } = clientWith({ PATCHBAY_LLM_MAX_RETRIES: '2' });
    for (let i = 0; i < 3; i++) server.enqueue(c.errors[kind]());
    const started = Date.now();
    const err = await failure(client.complete({ ...ask, runId: `run_${c.provider}_${kind}` }));
    expect(err.code).toBe(code);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(tries);
    const [row] = await store.llmCalls.listByRun(`run_${c.provider}_${kind}`);
    expect(row).toMatchObject({ outcome: code, attempts: tries, costUsd: null });
  });

  it('waits what retry-after says on a 429, then succeeds', async () => {
    const { client } = clientWith({}, 10_000);
    server.enqueue(c.errors.rateLimited(1), c.answer);
    const started = Date.now();
    const result = await client.complete(ask);
    const waited = Date.now() - started;
    expect(result.attempts).toBe(2);
    // retry-after: 1 (s), not the 10 s backoff this client would otherwise use.
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(5_000);
  });

  it('gives up at once with LLM_RATE_LIMITED and retryAfterMs when retry-after is past the longest wait', async () => {
    const { client } = clientWith({ PATCHBAY_LLM_MAX_RETRY_DELAY_MS: '2000' });
    server.enqueue(c.errors.rateLimited(120));
    const started = Date.now();
    const err = await failure(client.complete(ask));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.code).toBe('LLM_RATE_LIMITED');
    expect(err.details).toMatchObject({ retryAfterMs: 120_000, retryAfterSeconds: 120 });
    expect(server.requests).toHaveLength(1);
  });

  it('never lets the key reach a log line or an error, even when the provider echoes it', async () => {
    const { client, lines } = clientWith({ PATCHBAY_LLM_MAX_RETRIES: '1' });
    const key = KEYS[c.provider];
    server.enqueue(
      { status: 401, json: { error: { message: `Incorrect API key provided: ${key}` } } },
      { status: 500, json: { error: { message: `internal error for key ${key}` } } },
      { status: 500, json: { error: { message: `internal error for key ${key}` } } },
    );
    const auth = await failure(client.complete(ask));
    const overloaded = await failure(client.complete(ask));
    for (const err of [auth, overloaded]) {
      expect(err.message).not.toContain(key);
      expect(JSON.stringify(err.details)).not.toContain(key);
      expect(String((err.cause as Error | undefined)?.message)).not.toContain(key);
    }
    expect(auth.message).toContain('[redacted]');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(key);
  });
});

describe('anthropic, failing inside the stream', () => {
  it('retries an overloaded_error event that comes before any text, then answers', async () => {
    const server = await startScriptedServer('/v1');
    try {
      const config = loadConfig({
        env: {
          PATCHBAY_DATA_DIR: dir,
          PATCHBAY_ANTHROPIC_API_KEY: KEYS.anthropic,
          PATCHBAY_ANTHROPIC_BASE_URL: server.baseUrl,
        },
        cwd: dir,
      });
      const client = createLlmClient({ config, ledger: store.llmCalls, retryBaseDelayMs: 5 });
      const anthropic = providerCases.find((c) => c.provider === 'anthropic')!;
      server.enqueue(
        {
          events: [
            'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
          ],
        },
        anthropic.answer,
      );
      const result = await client.complete({ ...ask, runId: 'run_midstream' });
      expect(result.text).toBe(ANSWER_TEXT);
      expect(result.attempts).toBe(2);
      expect(server.requests).toHaveLength(2);

      const overloaded = {
        events: [
          'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
        ],
      };
      server.requests.length = 0;
      // One try and PATCHBAY_LLM_MAX_RETRIES (3) retries, all overloaded: the code, not a hang.
      for (let i = 0; i < 4; i++) server.enqueue(overloaded);
      const err = await failure(client.complete({ ...ask, runId: 'run_midstream_2' }));
      expect(server.requests).toHaveLength(4);
      expect(err.code).toBe('LLM_OVERLOADED');
    } finally {
      await server.close();
    }
  });
});

describe('settings', () => {
  it('refuses a call with LLM_NOT_CONFIGURED when no provider has a key', async () => {
    const config = loadConfig({ env: { PATCHBAY_DATA_DIR: tmpdir() }, cwd: tmpdir() });
    const client = createLlmClient({ config });
    const err = await failure(client.complete(ask));
    expect(err.code).toBe('LLM_NOT_CONFIGURED');
  });
});
