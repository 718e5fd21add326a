import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createClaudeParser } from './claude/parser.js';
import { createCodexParser } from './codex/parser.js';
import { createCursorParser } from './cursor/parser.js';
import { createGeminiParser } from './gemini/parser.js';
import type { NormalizedEvent, StreamParser } from './stream-parser.js';

function feed(parser: StreamParser, file: string): NormalizedEvent[] {
  const text = readFileSync(new URL(`../../test/fixtures/agents/${file}`, import.meta.url), 'utf8');
  const events = text.split('\n').flatMap((line) => parser.line(line));
  return [...events, ...parser.end()];
}

const shape = (events: NormalizedEvent[]) =>
  events.map((e) => {
    const d = e.data;
    switch (e.type) {
      case 'message':
        return `message:${String(d.role)}${d.subtype ? `/${String(d.subtype)}` : ''}:${String(d.text)}`;
      case 'thinking':
        return `thinking:${String(d.text)}`;
      case 'tool_call':
        return `tool_call:${String(d.id)}:${String(d.name)}`;
      case 'tool_result':
        return `tool_result:${String(d.id)}:${d.isError ? 'error' : 'ok'}:${String(d.output)}`;
      case 'result':
        return `result:${d.ok ? 'ok' : 'error'}:${String(d.text)}`;
      default:
        return e.type;
    }
  });

describe('Claude Code stream-json parser', () => {
  it('maps a session with tool calls and reports usage and cost', () => {
    const parser = createClaudeParser();
    const events = feed(parser, 'claude/success-with-tool-calls.ndjson');
    expect(shape(events)).toEqual([
      'message:system/init:',
      'thinking:Need to look at the files first.',
      'message:assistant:Let me check',
      'tool_call:toolu_1:Bash',
      'tool_result:toolu_1:ok:README.md\nsrc\n',
      'tool_call:toolu_2:Edit',
      'tool_result:toolu_2:ok:File edited',
      'message:assistant:Done: README updated.',
      'usage',
      'result:ok:Done: README updated.',
    ]);
    expect(events.find((e) => e.type === 'tool_call')!.data.input).toEqual({ command: 'ls' });
    expect(events.find((e) => e.type === 'usage')!.data).toEqual({
      input: 20,
      output: 184,
      cacheRead: 29568,
      cacheWrite: 29658,
      costUsd: 0.0641688,
      estimated: false,
    });
    expect(parser.facts).toMatchObject({
      sessionId: '9753c268-0000-4000-8000-000000000001',
      model: 'claude-sonnet-4-5',
      finished: true,
      isError: false,
      resultText: 'Done: README updated.',
      costUsd: 0.0641688,
      numTurns: 3,
    });
    expect(events.every((e) => e.raw.startsWith('{'))).toBe(true);
  });

  it('fails on an error subtype', () => {
    const parser = createClaudeParser();
    const events = feed(parser, 'claude/error-result.ndjson');
    expect(events.at(-1)!.data).toMatchObject({
      ok: false,
      subtype: 'error_max_turns',
      numTurns: 10,
    });
    expect(parser.facts).toMatchObject({
      finished: true,
      isError: true,
      errorCode: 'AGENT_RESULT_ERROR',
    });
  });

  it('trusts is_error even when the subtype says success', () => {
    const parser = createClaudeParser();
    feed(parser, 'claude/is-error-with-success-subtype.ndjson');
    expect(parser.facts).toMatchObject({
      isError: true,
      errorCode: 'AGENT_RESULT_ERROR',
      errorMessage: 'API Error: 529 overloaded',
    });
  });

  it('recognises a context-window error', () => {
    const parser = createClaudeParser();
    feed(parser, 'claude/context-window.ndjson');
    expect(parser.facts.errorCode).toBe('AGENT_CONTEXT_WINDOW_EXCEEDED');
  });

  it('streams partial text deltas and is not finished without a result line', () => {
    const parser = createClaudeParser();
    const events = feed(parser, 'claude/partial-messages.ndjson');
    expect(shape(events)).toEqual([
      'message:system/init:',
      'message:assistant/delta:Hel',
      'message:assistant/delta:lo',
      'message:assistant:Hello',
    ]);
    expect(parser.facts.finished).toBe(false);
  });

  it('passes non-JSON lines and unknown types through, and never throws', () => {
    const parser = createClaudeParser();
    const lines = [
      'not json',
      '{"type":"brand_new","x":1}',
      '[1,2]',
      '{"type":"assistant","message":"odd"}',
      '',
      '{',
    ];
    const events = lines.flatMap((l) => parser.line(l));
    expect(events.map((e) => e.type)).toEqual(['output', 'output', 'output', 'output']);
    expect(events[0]!.data).toEqual({ stream: 'stdout', text: 'not json\n' });
  });
});

describe('Cursor stream-json parser', () => {
  it('maps thinking, messages and tool calls by kind', () => {
    const parser = createCursorParser();
    const events = feed(parser, 'cursor/success-with-tool-calls.ndjson');
    expect(shape(events)).toEqual([
      'message:system/init:',
      'message:user:list the files',
      'thinking:I will run ls',
      'message:assistant:Listing files.',
      'tool_call:call_x\n1:shellToolCall',
      'tool_result:call_x\n1:ok:README.md\n',
      'tool_call:call_y:readToolCall',
      'tool_result:call_y:error:permission denied',
      'message:assistant:There is a README.',
      'result:ok:Listing files.There is a README.',
    ]);
    expect(events.some((e) => e.type === 'usage')).toBe(false); // Cursor reports no tokens
    expect(parser.facts).toMatchObject({
      sessionId: 'chat-1',
      model: 'Auto',
      finished: true,
      isError: false,
    });
    expect(parser.facts.usage).toBeUndefined();
  });

  it('reports error results and context-window errors', () => {
    const failed = createCursorParser();
    feed(failed, 'cursor/error-result.ndjson');
    expect(failed.facts).toMatchObject({ isError: true, errorCode: 'AGENT_RESULT_ERROR' });
    const ctx = createCursorParser();
    feed(ctx, 'cursor/context-window.ndjson');
    expect(ctx.facts.errorCode).toBe('AGENT_CONTEXT_WINDOW_EXCEEDED');
  });
});

describe('Codex exec --json parser', () => {
  it('maps items, sums usage and emits the result at the end', () => {
    const parser = createCodexParser();
    const events = feed(parser, 'codex/success-with-tool-calls.ndjson');
    expect(shape(events)).toEqual([
      'message:system/init:',
      'thinking:Look at the tree first.',
      'tool_call:item_1:command_execution',
      'tool_result:item_1:ok:README.md\nsrc\n',
      'tool_call:item_2:file_change',
      'tool_result:item_2:ok:update src/a.ts',
      'message:assistant:Done.',
      'usage',
      'result:ok:Done.',
    ]);
    expect(parser.facts).toMatchObject({
      sessionId: '0199a1b2-0000-7000-8000-000000000001',
      finished: true,
      isError: false,
      resultText: 'Done.',
      usage: { input: 20391, output: 512, cacheRead: 6912, cacheWrite: 0 },
    });
    expect(parser.facts.costUsd).toBeUndefined();
  });

  it('adds up usage over turns; the final text is the last agent message', () => {
    const parser = createCodexParser();
    const events = feed(parser, 'codex/multi-turn.ndjson');
    expect(parser.facts.usage).toEqual({ input: 300, output: 12, cacheRead: 30, cacheWrite: 0 });
    expect(parser.facts.numTurns).toBe(2);
    expect(events.at(-1)!.data).toMatchObject({ ok: true, text: 'Second.' });
  });

  it('fails on turn.failed, with a failed command marked as an error result', () => {
    const parser = createCodexParser();
    const events = feed(parser, 'codex/error.ndjson');
    expect(shape(events)).toEqual([
      'message:system/init:',
      'tool_call:item_1:command_execution',
      'tool_result:item_1:error:',
      'error',
      'result:error:',
    ]);
    expect(parser.facts).toMatchObject({
      isError: true,
      errorCode: 'AGENT_PROVIDER_ERROR',
      errorMessage: 'stream disconnected before completion',
    });
  });

  it('recognises a context-window error', () => {
    const parser = createCodexParser();
    feed(parser, 'codex/context-window.ndjson');
    expect(parser.facts.errorCode).toBe('AGENT_CONTEXT_WINDOW_EXCEEDED');
  });

  it('is not finished, and emits no result, when the stream stops early', () => {
    const parser = createCodexParser();
    const events = ['{"type":"thread.started","thread_id":"t"}', '{"type":"turn.started"}']
      .flatMap((l) => parser.line(l))
      .concat(parser.end());
    expect(events.map((e) => e.type)).toEqual(['message']);
    expect(parser.facts.finished).toBe(false);
  });
});

describe('Gemini stream-json parser', () => {
  it('keeps the last turn as the final text and reads stats', () => {
    const parser = createGeminiParser();
    const events = feed(parser, 'gemini/success-with-tool-calls.ndjson');
    expect(shape(events)).toEqual([
      'message:system/init:',
      'message:user:list files',
      'tool_call:t1:run_shell_command',
      'tool_result:t1:ok:README.md',
      'error',
      'message:assistant/delta:Hel',
      'message:assistant/delta:lo',
      'usage',
      'result:ok:Hello',
    ]);
    expect(parser.facts).toMatchObject({
      sessionId: 'gem-1',
      model: 'gemini-2.5-pro',
      finished: true,
      isError: false, // a warning does not fail the run
      resultText: 'Hello',
      usage: { input: 1000, output: 234, cacheRead: 600, cacheWrite: 0 },
    });
  });

  it('fails on an error result and an error event', () => {
    const parser = createGeminiParser();
    const events = feed(parser, 'gemini/error.ndjson');
    expect(shape(events)).toContain('tool_result:t1:error:no such file');
    expect(events.at(-1)!.data).toMatchObject({ ok: false });
    expect(parser.facts).toMatchObject({
      isError: true,
      errorCode: 'AGENT_RESULT_ERROR',
      errorMessage: 'Quota exceeded',
    });
  });

  it('recognises a context-window (token limit) error', () => {
    const parser = createGeminiParser();
    feed(parser, 'gemini/context-window.ndjson');
    expect(parser.facts.errorCode).toBe('AGENT_CONTEXT_WINDOW_EXCEEDED');
  });
});
