import { describe, expect, it } from 'vitest';
import { INTERRUPTED_RESULT, restoreTranscript } from './session.js';

describe('restoreTranscript', () => {
  it('answers tool calls a killed run left without results, and keeps the rest as it was', () => {
    const stored = [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_files', input: {} }] },
      { role: 'tool', results: [{ callId: 'c1', name: 'list_files', output: 'a.ts' }] },
      {
        role: 'assistant',
        content: 'reading',
        toolCalls: [
          { id: 'c2', name: 'read_file', input: { path: 'a.ts' } },
          { id: 'c3', name: 'search', input: { pattern: 'x' } },
        ],
      },
    ];
    const restored = restoreTranscript(stored);
    expect(restored.slice(0, 4)).toEqual(stored);
    expect(restored[4]).toEqual({
      role: 'tool',
      results: [
        { callId: 'c2', name: 'read_file', output: INTERRUPTED_RESULT, isError: true },
        { callId: 'c3', name: 'search', output: INTERRUPTED_RESULT, isError: true },
      ],
    });
  });

  it('refuses a transcript that is not one (a system prompt, an unknown role)', () => {
    expect(() => restoreTranscript([{ role: 'system', content: 'x' }])).toThrow(
      expect.objectContaining({ code: 'AGENT_SESSION_NOT_FOUND' }),
    );
  });
});
