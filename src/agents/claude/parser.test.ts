import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent, StreamParser } from '../stream-parser.js';
import { classifyClaudeExit, claudeAgent, permissionArgs } from './adapter.js';
import { createClaudeParser } from './parser.js';

/** Streams recorded from the real @anthropic-ai/claude-code 2.1.332 against the scripted server. */
function recorded(name: string): { parser: StreamParser; events: NormalizedEvent[] } {
  const url = new URL(`../../../test/agents-real/claude/recorded/${name}`, import.meta.url);
  const parser = createClaudeParser();
  const events = readFileSync(url, 'utf8')
    .split('\n')
    .flatMap((line) => parser.line(line));
  return { parser, events: [...events, ...parser.end()] };
}

const result = (line: Record<string, unknown>): StreamParser => {
  const parser = createClaudeParser();
  parser.line(JSON.stringify({ type: 'result', subtype: 'success', is_error: true, ...line }));
  return parser;
};

describe('Claude Code parser, on streams of the real CLI', () => {
  it('announces a denied tool use live and lists every denial from the result', () => {
    const { parser, events } = recorded('permission-denied.ndjson');
    const errors = events.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({ code: 'AGENT_PERMISSION_DENIED', tool: 'Write' });
    expect(String(errors[0]!.data.message)).toContain("you haven't granted it yet");
    const notice = events.find((e) => e.data.subtype === 'permission_denied')!;
    expect(notice.data.text).toContain('hello.txt');
    expect(parser.facts.permissionDenials).toEqual([
      { tool: 'Write', detail: '/tmp/claude-recorded-cwd/hello.txt' },
    ]);
    expect(parser.facts.isError).toBe(false);
  });

  it('makes retry notices readable and classes a 429 as AGENT_RATE_LIMITED with its delay', () => {
    const { parser, events } = recorded('rate-limited.ndjson');
    const retry = events.find((e) => e.data.subtype === 'api_retry')!;
    expect(retry.type).toBe('message');
    expect(retry.data.text).toMatch(
      /^retrying after 429 rate_limit \(attempt 1 of 1, in \d+\.\d s\)$/,
    );
    expect(retry.data).toMatchObject({ attempt: 1, maxRetries: 1, status: 429 });
    expect(parser.facts).toMatchObject({ isError: true, errorCode: 'AGENT_RATE_LIMITED' });
    expect(parser.facts.retryAfterMs).toBeGreaterThanOrEqual(1000);
    const silent = events.filter(
      (e) => e.type === 'message' && e.data.text === '' && e.data.subtype !== 'init',
    );
    expect(silent).toEqual([]);
  });

  it('reads usage from modelUsage, so an interrupted turn is not 0 tokens at a cost', () => {
    const { parser } = recorded('interrupted.ndjson');
    expect(parser.facts.usageScope).toBe('session');
    expect(parser.facts.usage).toEqual({ input: 100, output: 4, cacheRead: 0, cacheWrite: 0 });
    expect(parser.facts.costUsd).toBeCloseTo(0.00048, 8);
  });

  it("reports a resumed run's figures as the session's (the engine stores the delta)", () => {
    const { parser, events } = recorded('resumed.ndjson');
    // The session so far: the interrupted run's 100/4 and this run's 300/7.
    expect(parser.facts.usage).toEqual({ input: 400, output: 11, cacheRead: 0, cacheWrite: 0 });
    expect(parser.facts.costUsd).toBeCloseTo(0.00182, 8);
    expect(parser.facts.usageScope).toBe('session');
    expect(events.find((e) => e.type === 'usage')!.data.scope).toBe('session');
    expect(parser.facts.resultText).toBe('second answer');
  });
});

describe("Claude Code parser, on the fake CLI's streams", () => {
  it('reads the denied edit the fake prints without a permission mode that accepts edits', () => {
    const url = new URL('../../../test/fixtures/agents/claude/edit-denied.ndjson', import.meta.url);
    const parser = createClaudeParser();
    const events = readFileSync(url, 'utf8')
      .split('\n')
      .flatMap((line) => parser.line(line));
    expect(events.filter((e) => e.type === 'error').map((e) => e.data.code)).toEqual([
      'AGENT_PERMISSION_DENIED',
    ]);
    expect(parser.facts.permissionDenials).toEqual([{ tool: 'Write', detail: 'AGENT_NOTES.md' }]);
    expect(parser.facts).toMatchObject({ isError: false, usageScope: 'session' });
  });
});

describe('Claude Code parser, error results', () => {
  it.each([
    [{ api_error_status: 401, terminal_reason: 'api_error' }, 'AGENT_AUTH_FAILED'],
    [{ api_error_status: 429, terminal_reason: 'api_error' }, 'AGENT_RATE_LIMITED'],
    [{ api_error_status: 500, terminal_reason: 'api_error' }, 'AGENT_PROVIDER_ERROR'],
    [{ api_error_status: 529, api_error_type: 'overloaded_error' }, 'AGENT_PROVIDER_ERROR'],
    [
      { api_error_status: 400, terminal_reason: 'prompt_too_long', result: 'Prompt is too long' },
      'AGENT_CONTEXT_WINDOW_EXCEEDED',
    ],
    [{ subtype: 'error_max_turns' }, 'AGENT_RESULT_ERROR'],
  ])('%j → %s', (line, code) => {
    expect(result(line).facts.errorCode).toBe(code);
  });

  it('classes "Not logged in" (no status) by the synthetic message before it', () => {
    const parser = createClaudeParser();
    parser.line(
      JSON.stringify({
        type: 'assistant',
        error: 'authentication_failed',
        message: { role: 'assistant', content: [{ type: 'text', text: 'Not logged in' }] },
      }),
    );
    parser.line(
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: true,
        api_error_status: null,
        terminal_reason: 'api_error',
        result: 'Not logged in · Please run /login',
      }),
    );
    expect(parser.facts.errorCode).toBe('AGENT_AUTH_FAILED');
  });

  it('gives other system lines their own words', () => {
    const parser = createClaudeParser();
    const [event] = parser.line('{"type":"system","subtype":"status","status":"compacting"}');
    expect(event!.data).toEqual({ role: 'system', subtype: 'status', text: 'compacting' });
  });
});

describe('Claude Code adapter', () => {
  const context = {
    allowedCommands: undefined,
    childPath: undefined,
    bins: { claude: 'claude', codex: 'codex', gemini: 'gemini', cursor: 'cursor-agent' },
  };
  const run = {
    command: null,
    prompt: 'hi',
    model: null,
    args: ['--max-turns', '3'],
    resumeSessionId: 'abc',
    agentPermissions: 'edit' as const,
  };

  it('maps agentPermissions to a permission mode that works as root', () => {
    expect(permissionArgs('edit')).toEqual(['--permission-mode', 'acceptEdits']);
    expect(permissionArgs('full')).toEqual([
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Bash',
    ]);
    expect(permissionArgs('read-only')).toEqual(['--permission-mode', 'plan']);
    for (const p of ['edit', 'full', 'read-only'] as const) {
      expect(permissionArgs(p).join(' ')).not.toMatch(/dangerously|bypassPermissions/);
    }
  });

  it('builds the argv: resume and the policy before the user args', () => {
    expect(claudeAgent.plan(run, context).argv).toEqual([
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--input-format',
      'stream-json',
      '--resume',
      'abc',
      '--permission-mode',
      'acceptEdits',
      '--max-turns',
      '3',
    ]);
  });

  it('recognises a missing login on stderr, and leaves other exits to the engine', () => {
    const exit = { exitCode: 1, signal: null };
    expect(classifyClaudeExit(exit, ['Invalid API key · Please run /login'])?.code).toBe(
      'AGENT_AUTH_FAILED',
    );
    expect(
      classifyClaudeExit(exit, [
        '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons',
      ]),
    ).toBeUndefined();
  });
});
