import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent, StreamParser } from '../stream-parser.js';
import { createCodexParser } from './parser.js';

const fixture = (name: string): string[] =>
  readFileSync(new URL(`../../../test/fixtures/agents/codex/${name}`, import.meta.url), 'utf8')
    .replace(/\n$/, '')
    .split('\n');

interface Fed {
  parser: StreamParser;
  lines: string[];
  perLine: NormalizedEvent[][];
  events: NormalizedEvent[];
  ended: NormalizedEvent[];
}

function feed(name: string): Fed {
  const parser = createCodexParser();
  const lines = fixture(name);
  const perLine = lines.map((line) => parser.line(line));
  const ended = parser.end();
  return { parser, lines, perLine, events: [...perLine.flat(), ...ended], ended };
}

/** One readable string per event: its type and the payload fields that matter. */
const shape = (events: NormalizedEvent[]): string[] =>
  events.map((e) => {
    const d = e.data;
    switch (e.type) {
      case 'message':
        return `message:${String(d.role)}${d.subtype ? `/${String(d.subtype)}` : ''}:${String(d.text)}`;
      case 'thinking':
        return `thinking:${String(d.text)}`;
      case 'tool_call':
        return `tool_call:${String(d.id)}:${String(d.name)}:${JSON.stringify(d.input)}`;
      case 'tool_result':
        return `tool_result:${String(d.id)}:${d.isError ? 'error' : 'ok'}:${String(d.output)}`;
      case 'usage':
        return `usage:${String(d.input)}/${String(d.output)}/${String(d.cacheRead)}/${String(d.cacheWrite)}`;
      case 'error':
        return `error:${String(d.code)}${d.severity ? `/${String(d.severity)}` : ''}:${String(d.message)}`;
      case 'result':
        return `result:${d.ok ? 'ok' : 'error'}:${String(d.text)}`;
      case 'output':
        return `output:${JSON.stringify(d.text)}`;
      default:
        return e.type;
    }
  });

/** Every event a line produced keeps that line as `raw`. */
function expectRawKept({ lines, perLine }: Fed): void {
  perLine.forEach((events, i) => {
    for (const e of events) expect(e.raw).toBe(lines[i]);
  });
}

describe('createCodexParser (codex exec --json)', () => {
  it('maps a successful turn with a command, a file change and an answer', () => {
    const fed = feed('success-with-tool-calls.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'thinking:Look at the tree first.',
      'tool_call:item_1:command_execution:{"command":"bash -lc ls"}',
      'tool_result:item_1:ok:README.md\nsrc\n',
      'tool_call:item_2:file_change:{"changes":[{"path":"src/a.ts","kind":"update"}]}',
      'tool_result:item_2:ok:update src/a.ts',
      'message:assistant:Done.',
      'usage:20391/512/6912/0',
      'result:ok:Done.',
    ]);
    expect(fed.events.find((e) => e.type === 'usage')!.data.estimated).toBe(false);
    expect(fed.ended).toEqual([
      { type: 'result', data: { ok: true, text: 'Done.', numTurns: 1 }, raw: '' },
    ]);
    expect(fed.parser.facts).toEqual({
      sessionId: '0199a1b2-0000-7000-8000-000000000001',
      finished: true,
      isError: false,
      resultText: 'Done.',
      numTurns: 1,
      usage: { input: 20391, output: 512, cacheRead: 6912, cacheWrite: 0 },
      usageScope: 'session',
    });
    expectRawKept(fed);
  });

  it('emits nothing for turn.started and keeps the thread id as the session id', () => {
    const parser = createCodexParser();
    expect(parser.line('{"type":"turn.started"}')).toEqual([]);
    expect(parser.line('{"type":"thread.started","thread_id":"th-1"}')).toEqual([
      {
        type: 'message',
        data: { role: 'system', subtype: 'init', text: '' },
        raw: '{"type":"thread.started","thread_id":"th-1"}',
      },
    ]);
    expect(parser.facts.sessionId).toBe('th-1');
  });

  it("takes the thread's running total from the last turn.completed (session-scoped usage)", () => {
    const fed = feed('multi-turn.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'message:assistant:First.',
      'usage:100/5/10/0',
      'message:assistant:Second.',
      'usage:300/12/30/0',
      'result:ok:Second.',
    ]);
    expect(fed.parser.facts).toMatchObject({
      sessionId: 'thread-2',
      finished: true,
      isError: false,
      resultText: 'Second.',
      numTurns: 2,
      usage: { input: 300, output: 12, cacheRead: 30, cacheWrite: 0 },
    });
    expect(fed.ended[0]!.data).toEqual({ ok: true, text: 'Second.', numTurns: 2 });
  });

  it('fails on turn.failed; a failed command is an error tool result', () => {
    const fed = feed('error.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'tool_call:item_1:command_execution:{"command":"bash -lc false"}',
      'tool_result:item_1:error:',
      'error:AGENT_PROVIDER_ERROR:stream disconnected before completion',
      'result:error:',
    ]);
    expect(fed.parser.facts).toEqual({
      sessionId: 'thread-err',
      finished: true,
      isError: true,
      numTurns: 1,
      errorCode: 'AGENT_PROVIDER_ERROR',
      errorMessage: 'stream disconnected before completion',
    });
    expectRawKept(fed);
  });

  it('recognises a context-window error', () => {
    const fed = feed('context-window.ndjson');
    const message = 'Your input exceeds the context window of this model.';
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      `error:AGENT_CONTEXT_WINDOW_EXCEEDED:${message}`,
      `error:AGENT_CONTEXT_WINDOW_EXCEEDED:${message}`,
      'result:error:',
    ]);
    expect(fed.parser.facts).toMatchObject({
      finished: true,
      isError: true,
      errorCode: 'AGENT_CONTEXT_WINDOW_EXCEEDED',
      errorMessage: message,
    });
    expect(fed.parser.facts.usage).toBeUndefined();
  });

  it('lets a later context-window error upgrade the code, keeping the first message', () => {
    const parser = createCodexParser();
    parser.line('{"type":"error","message":"unexpected status 500"}');
    parser.line('{"type":"turn.failed","error":{"message":"prompt is too long: 300000 tokens"}}');
    expect(parser.facts).toMatchObject({
      isError: true,
      errorCode: 'AGENT_CONTEXT_WINDOW_EXCEEDED',
      errorMessage: 'unexpected status 500',
    });
  });

  it('maps MCP calls, web searches, todo lists and non-fatal notices', () => {
    const fed = feed('item-types.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'thinking:- [ ] Search docs\n- [ ] Answer',
      'tool_call:item_1:web_search:{"query":"codex exec --json schema"}',
      'tool_result:item_1:ok:codex exec --json schema',
      'tool_call:item_2:docs.search:{"q":"exec --json"}',
      'tool_result:item_2:ok:Found 3 matches.',
      'tool_call:item_3:docs.fetch:{"url":"https://example.com"}',
      'tool_result:item_3:error:tool timeout',
      'error:AGENT_PROVIDER_ERROR/warning:Reconnecting... 1/5',
      'error:AGENT_RESULT_ERROR/warning:command output truncated',
      'thinking:- [x] Search docs\n- [ ] Answer',
      'message:assistant:Found it.',
      'thinking:- [x] Search docs\n- [x] Answer',
      'usage:5000/80/4000/0',
      'result:ok:Found it.',
    ]);
    // Reconnect notices and error items are warnings: the run still succeeds.
    expect(fed.parser.facts).toMatchObject({ finished: true, isError: false });
    expect(fed.parser.facts.errorCode).toBeUndefined();
    expectRawKept(fed);
  });

  it('emits one tool_call per item even when a file change also has item.started; a failed patch warns', () => {
    const parser = createCodexParser();
    const item = '"id":"item_9","type":"file_change","changes":[{"path":"b.ts","kind":"add"}]';
    const events = [
      ...parser.line(`{"type":"item.started","item":{${item},"status":"in_progress"}}`),
      ...parser.line(`{"type":"item.completed","item":{${item},"status":"failed"}}`),
    ];
    expect(shape(events)).toEqual([
      'tool_call:item_9:file_change:{"changes":[{"path":"b.ts","kind":"add"}]}',
      'tool_result:item_9:error:add b.ts',
      'error:AGENT_RESULT_ERROR/warning:codex could not apply a patch: add b.ts',
    ]);
    expect(parser.facts.isError).toBe(false);
  });

  it('marks a command with a non-zero exit code as an error even if its status is completed', () => {
    const parser = createCodexParser();
    const events = parser.line(
      '{"type":"item.completed","item":{"id":"c","type":"command_execution","command":"x","aggregated_output":"boom","exit_code":2,"status":"completed"}}',
    );
    expect(shape(events)).toEqual([
      'tool_call:c:command_execution:{"command":"x"}',
      'tool_result:c:error:boom',
    ]);
  });

  it('passes malformed lines, legacy and unknown types through as output', () => {
    const fed = feed('malformed.ndjson');
    const out = (i: number) => `output:${JSON.stringify(`${fed.lines[i]}\n`)}`;
    expect(shape(fed.events)).toEqual([
      out(0), // not JSON
      'message:system/init:',
      // line 2 is empty: ignored
      out(3), // legacy {"id","msg"} format
      out(5), // unknown top-level type
      out(6), // unknown item type
      out(7), // item that is not an object
      out(8), // JSON that is not an object
      'message:assistant:Still fine.',
      'usage:10/3/0/0',
      out(11), // truncated JSON
      'result:ok:Still fine.',
    ]);
    expect(fed.perLine[2]).toEqual([]);
    for (const e of fed.events.filter((e) => e.type === 'output')) {
      expect(e.data.stream).toBe('stdout');
    }
    expect(fed.parser.facts).toMatchObject({
      finished: true,
      isError: false,
      sessionId: 'thread-noise',
    });
    expectRawKept(fed);
  });

  it('never throws on odd input', () => {
    const parser = createCodexParser();
    for (const line of ['null', '42', '{', '{"type":null}', '{"type":"item.started"}', '   ']) {
      expect(() => parser.line(line)).not.toThrow();
    }
    expect(parser.line('   ')).toEqual([]);
  });

  it('is not finished, and emits no result, when the stream is cut before the turn ends', () => {
    const fed = feed('cut-off.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'message:assistant:Running the tests.',
      `tool_call:item_1:command_execution:{"command":"bash -lc 'npm test'"}`,
    ]);
    expect(fed.ended).toEqual([]);
    expect(fed.parser.facts).toMatchObject({
      finished: false,
      isError: false,
      sessionId: 'thread-cut',
    });
    expect(fed.parser.facts.usage).toBeUndefined();
  });

  it('fails, without finishing, on a fatal error that no turn.failed follows', () => {
    const parser = createCodexParser();
    const events = [
      ...parser.line('{"type":"error","message":"unexpected status 401 Unauthorized"}'),
      ...parser.end(),
    ];
    expect(shape(events)).toEqual(['error:AGENT_AUTH_FAILED:unexpected status 401 Unauthorized']);
    expect(parser.facts).toMatchObject({
      finished: false,
      isError: true,
      errorCode: 'AGENT_AUTH_FAILED',
      errorMessage: 'unexpected status 401 Unauthorized',
    });
  });

  // The messages Codex 0.171.0 printed against the scripted Responses server
  // (test/agents-real/codex.test.ts) for each provider failure.
  it.each([
    [
      'unexpected status 401 Unauthorized: Incorrect API key provided: sk-wrong., url: http://127.0.0.1:1/v1/responses',
      'AGENT_AUTH_FAILED',
    ],
    ['Missing environment variable: `OPENAI_API_KEY`.', 'AGENT_AUTH_FAILED'],
    ['exceeded retry limit, last status: 429 Too Many Requests', 'AGENT_RATE_LIMITED'],
    ['rate limit exceeded: Rate limit reached. Please try again in 1.5s.', 'AGENT_RATE_LIMITED'],
    [
      'We’re currently experiencing high demand, which may cause temporary errors.',
      'AGENT_PROVIDER_ERROR',
    ],
    ['stream disconnected before completion: The server had an error', 'AGENT_PROVIDER_ERROR'],
    [
      "Codex ran out of room in the model's context window. Start a new thread or clear earlier history before retrying.",
      'AGENT_CONTEXT_WINDOW_EXCEEDED',
    ],
    [
      "unexpected status 400 Bad Request: Invalid value for 'reasoning.effort': 'max' is not supported with this model., url: https://api.openai.com/v1/responses",
      'AGENT_RESULT_ERROR',
    ],
  ])('classes %j as %s', (message, code) => {
    const parser = createCodexParser();
    parser.line(JSON.stringify({ type: 'turn.failed', error: { message } }));
    expect(parser.facts.errorCode).toBe(code);
  });

  it('keeps when a rate-limited provider said to try again', () => {
    const parser = createCodexParser();
    const [event] = parser.line(
      '{"type":"error","message":"rate limit exceeded: Rate limit reached. Please try again in 1.5s."}',
    );
    expect(event!.data).toMatchObject({ code: 'AGENT_RATE_LIMITED', retryAfterMs: 1500 });
    expect(parser.facts.retryAfterMs).toBe(1500);
  });

  it('turns a reconnect notice into a readable retry warning, not a failure', () => {
    const parser = createCodexParser();
    const [event] = parser.line(
      '{"type":"error","message":"Reconnecting... 1/2 (stream disconnected before completion: The server had an error)"}',
    );
    expect(event!.data).toEqual({
      code: 'AGENT_PROVIDER_ERROR',
      message:
        'Reconnecting... 1/2 (stream disconnected before completion: The server had an error)',
      severity: 'warning',
      retrying: true,
      attempt: 1,
      maxAttempts: 2,
      reason: 'stream disconnected before completion: The server had an error',
    });
    expect(parser.facts.isError).toBe(false);
  });

  it('records a patch rejected by the sandbox, which Codex logs only on stderr', () => {
    const parser = createCodexParser();
    const line =
      '2026-12-07T05:20:15.934334Z ERROR codex_core::tools::router: error=patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings';
    const events = parser.stderrLine!(line);
    expect(events).toEqual([
      {
        type: 'error',
        data: {
          code: 'AGENT_PERMISSION_DENIED',
          message:
            'codex refused apply_patch: writing is blocked by read-only sandbox; rejected by user approval settings',
          severity: 'warning',
        },
        raw: line,
      },
    ]);
    expect(parser.facts.permissionDenials).toEqual([
      {
        tool: 'apply_patch',
        detail: 'writing is blocked by read-only sandbox; rejected by user approval settings',
      },
    ]);
    expect(parser.stderrLine!('Reading additional input from stdin...')).toEqual([]);
  });

  it('records a declined command as a denial', () => {
    const parser = createCodexParser();
    const events = parser.line(
      '{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"rm -rf x","aggregated_output":"","exit_code":null,"status":"declined"}}',
    );
    expect(shape(events)).toEqual([
      'tool_call:item_0:command_execution:{"command":"rm -rf x"}',
      'tool_result:item_0:error:',
      'error:AGENT_PERMISSION_DENIED/warning:codex refused command_execution: rm -rf x',
    ]);
    expect(parser.facts.permissionDenials).toEqual([
      { tool: 'command_execution', detail: 'rm -rf x' },
    ]);
  });
});
