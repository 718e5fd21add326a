import { describe, expect, it } from 'vitest';
import { createLlmParser, runErrorCode } from './parser.js';

const usage = { input: 10, output: 2, cacheRead: 0, cacheWrite: 0 };
const line = (value: object) => JSON.stringify(value);
const call = {
  type: 'llm_call',
  purpose: 'agent',
  provider: 'openai',
  model: 'gpt-5-mini',
  ...usage,
  reasoning: 1,
  costUsd: null,
  latencyMs: 12,
  attempts: 1,
  outcome: 'succeeded',
  rawUsage: { prompt_tokens: 10 },
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('llm agent parser', () => {
  it('turns the protocol into normalized events and facts', () => {
    const p = createLlmParser();
    const events = [
      line({ type: 'init', sessionId: 'llm-1' }),
      line({ type: 'message', text: 'Read', delta: true }),
      line({ type: 'thinking', text: 'hmm' }),
      line({ type: 'message', text: 'Reading.' }),
      line({ type: 'tool_call', id: 'c1', name: 'read_file', input: { path: 'a' } }),
      line({ type: 'tool_result', id: 'c1', name: 'read_file', output: 'x', isError: false }),
      line(call),
      line({ type: 'transcript', message: { role: 'user', content: 'go' } }),
      line({ type: 'result', ok: true, text: 'done', numTurns: 1, usage, costUsd: 0.001 }),
      'not json',
    ].flatMap((l) => p.line(l));
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['message', { role: 'system', subtype: 'init', text: '', sessionId: 'llm-1' }],
      ['message', { role: 'assistant', text: 'Read', subtype: 'delta' }],
      ['thinking', { text: 'hmm' }],
      ['message', { role: 'assistant', text: 'Reading.' }],
      ['tool_call', { id: 'c1', name: 'read_file', input: { path: 'a' } }],
      ['tool_result', { id: 'c1', output: 'x', isError: false }],
      [
        'usage',
        {
          purpose: 'agent',
          ...usage,
          reasoning: 1,
          estimated: false,
          provider: 'openai',
          model: 'gpt-5-mini',
          latencyMs: 12,
          outcome: 'succeeded',
        },
      ],
      ['result', { ok: true, text: 'done', numTurns: 1 }],
      ['output', { stream: 'stdout', text: 'not json\n' }],
    ]);
    expect(p.facts).toMatchObject({
      sessionId: 'llm-1',
      model: 'gpt-5-mini',
      finished: true,
      isError: false,
      resultText: 'done',
      numTurns: 1,
      usage,
      costUsd: 0.001,
      sessionMessages: [{ role: 'user', content: 'go' }],
    });
    // The call's ledger row rides on its usage event, for the server to write.
    expect(events.find((e) => e.type === 'usage')?.llmCall).toMatchObject({
      purpose: 'agent',
      inputTokens: 10,
      reasoningTokens: 1,
      costUsd: null,
      rawUsage: { prompt_tokens: 10 },
    });
  });

  it('a failed result carries the run code, the model client code first in its message', () => {
    const p = createLlmParser();
    p.line(
      line({
        type: 'result',
        ok: false,
        text: '',
        numTurns: 0,
        usage,
        costUsd: 0,
        errorCode: 'LLM_AUTH_FAILED',
        errorMessage: 'bad key [redacted]',
      }),
    );
    expect(p.facts).toMatchObject({
      isError: true,
      errorCode: 'AGENT_AUTH_FAILED',
      errorMessage: 'LLM_AUTH_FAILED: bad key [redacted]',
    });
  });

  it('maps codes: twins renamed, catalog codes kept, anything else a result error', () => {
    expect(runErrorCode('LLM_RATE_LIMITED')).toBe('AGENT_RATE_LIMITED');
    expect(runErrorCode('LLM_CONTEXT_TOO_LONG')).toBe('AGENT_CONTEXT_WINDOW_EXCEEDED');
    expect(runErrorCode('LLM_OVERLOADED')).toBe('AGENT_PROVIDER_ERROR');
    expect(runErrorCode('LLM_BAD_RESPONSE')).toBe('LLM_BAD_RESPONSE');
    expect(runErrorCode('BUDGET_EXCEEDED')).toBe('BUDGET_EXCEEDED');
    expect(runErrorCode('NOT_A_CODE')).toBe('AGENT_RESULT_ERROR');
    expect(runErrorCode(undefined)).toBe('AGENT_RESULT_ERROR');
  });

  it('passes through a line of an unknown shape', () => {
    const p = createLlmParser();
    expect(p.line(line({ type: 'tool_call', id: 1 }))[0]?.type).toBe('output');
  });
});
