import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent, StreamParser } from '../stream-parser.js';
import { createGeminiParser } from './parser.js';

const fixture = (name: string): string[] =>
  readFileSync(new URL(`../../../test/fixtures/agents/gemini/${name}`, import.meta.url), 'utf8')
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
  const parser = createGeminiParser();
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
      case 'tool_call':
        return `tool_call:${String(d.id)}:${String(d.name)}:${JSON.stringify(d.input)}`;
      case 'tool_result':
        return `tool_result:${String(d.id)}:${d.isError ? 'error' : 'ok'}:${String(d.output)}`;
      case 'usage':
        return `usage:${String(d.input)}/${String(d.output)}/${String(d.cacheRead)}/${String(d.cacheWrite)}`;
      case 'error':
        return `error:${String(d.code)}/${String(d.severity)}:${String(d.message)}`;
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

describe('createGeminiParser (gemini -p --output-format stream-json)', () => {
  it("keeps the last turn's text as the answer, maps tools and reads stats", () => {
    const fed = feed('success-with-tool-calls.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'message:user:list files',
      'tool_call:t1:run_shell_command:{"command":"ls"}',
      'tool_result:t1:ok:README.md',
      'error:AGENT_RESULT_ERROR/warning:loop detection is off',
      'message:assistant/delta:Hel',
      'message:assistant/delta:lo',
      'usage:1000/234/600/0',
      'result:ok:Hello',
    ]);
    const result = fed.events.at(-1)!;
    expect(result.data).toEqual({
      ok: true,
      text: 'Hello',
      subtype: 'success',
      durationMs: 5120,
      toolCalls: 1,
      numTurns: 2,
    });
    expect(result.raw).toBe(fed.lines.at(-1));
    expect(fed.events.find((e) => e.type === 'usage')!.data.estimated).toBe(false);
    expect(fed.ended).toEqual([]);
    expect(fed.parser.facts).toEqual({
      sessionId: 'gem-1',
      model: 'gemini-2.5-pro', // the model with the most tokens, not `auto`
      finished: true,
      isError: false, // a warning does not fail the run
      resultText: 'Hello',
      numTurns: 2,
      usageScope: 'run',
      usage: { input: 1000, output: 234, cacheRead: 600, cacheWrite: 0 },
    });
    expectRawKept(fed);
  });

  it('reads a real gemini-cli 0.61 run: a write between two turns, the last one answers', () => {
    const fed = feed('real-write.ndjson');
    expect(shape(fed.events).slice(2, 6)).toEqual([
      'message:assistant/delta:Let me w',
      'message:assistant/delta:rite it.',
      'tool_call:write_file__write_file_1796621084148_0:write_file:{"file_path":"hello.txt","content":"hi\\n"}',
      'tool_result:write_file__write_file_1796621084148_0:ok:',
    ]);
    expect(fed.parser.facts).toMatchObject({
      sessionId: '926d944b-87d5-4c1d-b293-db006546225e',
      finished: true,
      isError: false,
      resultText: 'Done: wrote hello.txt.',
      numTurns: 2,
      usage: { input: 205, output: 25, cacheRead: 0, cacheWrite: 0 },
    });
    expect(fed.parser.facts.model).not.toBe('auto');
    expect(fed.parser.facts.permissionDenials).toBeUndefined();
  });

  it('surfaces a write refused in plan (read-only) mode as a permission denial', () => {
    const fed = feed('real-read-only-denied.ndjson');
    const denial = fed.events.find((e) => e.data.code === 'AGENT_PERMISSION_DENIED')!;
    expect(denial.type).toBe('error');
    expect(denial.data.severity).toBe('warning');
    expect(String(denial.data.message)).toContain('write_file (hello.txt): Tool execution denied');
    expect(fed.parser.facts.permissionDenials).toEqual([
      { tool: 'write_file', detail: 'hello.txt' },
    ]);
    expect(fed.parser.facts).toMatchObject({ isError: false, finished: true });
  });

  it('counts a shell call headless auto_edit leaves unregistered as denied', () => {
    const fed = feed('real-shell-denied.ndjson');
    expect(fed.parser.facts.permissionDenials).toEqual([
      { tool: 'run_shell_command', detail: 'touch x.txt' },
    ]);
    // A misnamed tool is not a denial.
    const parser = createGeminiParser();
    parser.line('{"type":"tool_use","tool_name":"no_such","tool_id":"x","parameters":{}}');
    parser.line(
      '{"type":"tool_result","tool_id":"x","status":"error","error":{"type":"tool_not_registered","message":"Tool \\"no_such\\" not found."}}',
    );
    expect(parser.facts.permissionDenials).toBeUndefined();
  });

  it.each([
    [
      'real-auth.ndjson',
      'AGENT_AUTH_FAILED',
      '401 UNAUTHENTICATED: Request had invalid authentication credentials.',
      undefined,
    ],
    ['real-rate-limited.ndjson', 'AGENT_RATE_LIMITED', 'You exceeded your current quota', 1000],
    [
      'real-server-error.ndjson',
      'AGENT_PROVIDER_ERROR',
      '500 INTERNAL: An internal error has occurred.',
      undefined,
    ],
    [
      'real-context-window.ndjson',
      'AGENT_CONTEXT_WINDOW_EXCEEDED',
      '400 INVALID_ARGUMENT: The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
      undefined,
    ],
  ])('maps the API error of %s to %s', (file, code, message, retryAfterMs) => {
    const fed = feed(file);
    expect(fed.parser.facts).toMatchObject({ finished: true, isError: true, errorCode: code });
    expect(fed.parser.facts.errorMessage).toContain(message);
    expect(fed.parser.facts.errorMessage).not.toContain('[API Error');
    expect(fed.parser.facts.retryAfterMs).toBe(retryAfterMs);
  });

  it('turns the retry notices gemini prints on stderr into readable events', () => {
    const parser = createGeminiParser();
    const lines = fixture('real-retry-stderr.txt');
    const events = lines.flatMap((line) => parser.stderrLine(line));
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({ subtype: 'retry', attempt: 1, status: 429, delayMs: 5864 }),
      expect.objectContaining({ subtype: 'retry', attempt: 2, status: 429, delayMs: 11684 }),
      expect.objectContaining({ subtype: 'retry', attempt: 1, status: 500 }),
      expect.objectContaining({ subtype: 'retry', attempt: 2, status: 500 }),
    ]);
    expect(events.every((e) => e.type === 'message' && e.data.role === 'system')).toBe(true);
    expect(parser.stderrLine('Ripgrep is not available. Falling back to GrepTool.')).toEqual([]);
  });

  it('fails on an error event and an error result; a failed tool is an error result', () => {
    const fed = feed('error.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'tool_call:t1:read_file:{"path":"nope"}',
      'tool_result:t1:error:no such file',
      'error:AGENT_RESULT_ERROR/error:Quota exceeded',
      'usage:10/0/0/0',
      'result:error:',
    ]);
    expect(fed.events.at(-1)!.data).toEqual({
      ok: false,
      text: '',
      subtype: 'error',
      durationMs: 50,
      numTurns: 1,
    });
    expect(fed.parser.facts).toEqual({
      sessionId: 'gem-err',
      model: 'gemini-2.5-pro',
      finished: true,
      isError: true,
      errorCode: 'AGENT_RESULT_ERROR',
      errorMessage: 'Quota exceeded',
      resultText: '',
      numTurns: 1,
      usageScope: 'run',
      usage: { input: 10, output: 0, cacheRead: 0, cacheWrite: 0 },
    });
    expectRawKept(fed);
  });

  it('recognises a context-window (token limit) error result', () => {
    const fed = feed('context-window.ndjson');
    expect(shape(fed.events)).toEqual(['message:system/init:', 'usage:0/0/0/0', 'result:error:']);
    expect(fed.parser.facts).toMatchObject({
      sessionId: 'gem-ctx',
      finished: true,
      isError: true,
      errorCode: 'AGENT_CONTEXT_WINDOW_EXCEEDED',
      errorMessage:
        'The input token count exceeds the maximum number of tokens allowed (token limit)',
    });
  });

  it('lets a later context-window error upgrade the code, keeping the first message', () => {
    const parser = createGeminiParser();
    parser.line('{"type":"error","timestamp":"t","severity":"error","message":"Quota exceeded"}');
    parser.line(
      '{"type":"result","timestamp":"t","status":"error","error":{"type":"api","message":"maximum context length is 1048576 tokens"},"stats":{}}',
    );
    expect(parser.facts).toMatchObject({
      finished: true,
      isError: true,
      errorCode: 'AGENT_CONTEXT_WINDOW_EXCEEDED',
      errorMessage: 'Quota exceeded',
    });
  });

  it('fails a run whose result says success after a fatal error event', () => {
    const parser = createGeminiParser();
    parser.line('{"type":"error","timestamp":"t","message":"Model stream ended unexpectedly"}');
    const events = parser.line('{"type":"result","timestamp":"t","status":"success","stats":{}}');
    expect(events.at(-1)!.data).toMatchObject({ ok: false, subtype: 'success' });
    expect(parser.facts).toMatchObject({ isError: true, errorCode: 'AGENT_RESULT_ERROR' });
  });

  it('reports a failed result without an error message by its status', () => {
    const parser = createGeminiParser();
    parser.line('{"type":"result","timestamp":"t","status":"cancelled"}');
    expect(parser.facts).toMatchObject({
      finished: true,
      isError: true,
      errorCode: 'AGENT_RESULT_ERROR',
      errorMessage: 'status cancelled',
      usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    });
  });

  it('shows a non-string tool output as JSON', () => {
    const parser = createGeminiParser();
    const events = parser.line(
      '{"type":"tool_result","timestamp":"t","tool_id":"t2","status":"success","output":{"files":["a"]}}',
    );
    expect(shape(events)).toEqual(['tool_result:t2:ok:{"files":["a"]}']);
  });

  it('passes malformed lines and unknown types through as output', () => {
    const fed = feed('malformed.ndjson');
    const out = (i: number) => `output:${JSON.stringify(`${fed.lines[i]}\n`)}`;
    expect(shape(fed.events)).toEqual([
      out(0), // not JSON
      'message:system/init:',
      // line 2 is empty: ignored
      out(3), // unknown type
      out(4), // JSON that is not an object
      'message:assistant/delta:Fine.',
      'usage:12/3/0/0',
      'result:ok:Fine.',
      out(7), // truncated JSON
    ]);
    expect(fed.perLine[2]).toEqual([]);
    expect(fed.parser.facts).toMatchObject({
      sessionId: 'gem-noise',
      model: 'gemini-2.5-flash',
      finished: true,
      isError: false,
      resultText: 'Fine.',
    });
    expectRawKept(fed);
  });

  it('never throws on odd input', () => {
    const parser = createGeminiParser();
    for (const line of ['null', 'true', '{', '{"type":7}', '{"type":"result","stats":[]}', '\t']) {
      expect(() => parser.line(line)).not.toThrow();
    }
    expect(parser.line('\t')).toEqual([]);
  });

  it('is not finished, and emits no result, when the stream is cut before its result', () => {
    const fed = feed('cut-off.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'message:user:fix the build',
      'message:assistant/delta:Looking',
      'tool_call:t1:run_shell_command:{"command":"npm run build"}',
    ]);
    expect(fed.ended).toEqual([]);
    expect(fed.parser.facts).toMatchObject({
      sessionId: 'gem-cut',
      finished: false,
      isError: false,
      resultText: 'Looking', // the text so far
    });
    expect(fed.parser.facts.usage).toBeUndefined();
  });
});
