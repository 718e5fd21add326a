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
  it('joins assistant deltas into the final text, maps tools and reads stats', () => {
    const fed = feed('success-with-tool-calls.ndjson');
    expect(shape(fed.events)).toEqual([
      'message:system/init:',
      'message:user:list files',
      'message:assistant/delta:Hel',
      'tool_call:t1:run_shell_command:{"command":"ls"}',
      'tool_result:t1:ok:README.md',
      'error:AGENT_RESULT_ERROR/warning:loop detection is off',
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
    });
    expect(result.raw).toBe(fed.lines.at(-1));
    expect(fed.events.find((e) => e.type === 'usage')!.data.estimated).toBe(false);
    expect(fed.ended).toEqual([]);
    expect(fed.parser.facts).toEqual({
      sessionId: 'gem-1',
      model: 'gemini-2.5-pro',
      finished: true,
      isError: false, // a warning does not fail the run
      resultText: 'Hello',
      usage: { input: 1000, output: 234, cacheRead: 600, cacheWrite: 0 },
    });
    expectRawKept(fed);
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
    });
    expect(fed.parser.facts).toEqual({
      sessionId: 'gem-err',
      model: 'gemini-2.5-pro',
      finished: true,
      isError: true,
      errorCode: 'AGENT_RESULT_ERROR',
      errorMessage: 'Quota exceeded',
      resultText: '',
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
