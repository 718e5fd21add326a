import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../contracts/index.js';
import { summarizeConversation } from './conversations.js';

const msg = (
  seq: number,
  role: ConversationMessage['role'],
  content: string,
): ConversationMessage => ({
  seq,
  role,
  content,
  runId: `run_${seq}`,
  runStatus: role === 'assistant' ? 'succeeded' : null,
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('summarizeConversation', () => {
  const messages = [
    msg(1, 'user', 'first request'),
    msg(2, 'assistant', 'first answer'),
    msg(3, 'summary', 'an older summary'),
    ...Array.from({ length: 10 }, (_, i) => msg(4 + i, i % 2 ? 'assistant' : 'user', `m${4 + i}`)),
  ];
  const files = [{ path: 'src/a.ts', added: 3, removed: 1, binary: false }];

  it('keeps the first request, the last N messages and the changed files', () => {
    const text = summarizeConversation(messages, files, 3);
    expect(text).toContain('## The first request\nfirst request');
    expect(text).toContain('## The last 3 message(s)');
    expect(text).toContain('[assistant, succeeded]\nm11');
    expect(text).toContain('[user]\nm12');
    expect(text).toContain('[assistant, succeeded]\nm13');
    expect(text).not.toContain('m10');
    expect(text).not.toContain('an older summary');
    expect(text).toContain('- src/a.ts (+3 -1)');
  });

  it('is deterministic and bounds each message', () => {
    const long = [msg(1, 'user', 'x'.repeat(50_000))];
    const a = summarizeConversation(long, [], 6);
    expect(a).toBe(summarizeConversation(long, [], 6));
    expect(a.length).toBeLessThan(5000);
    expect(a).toContain('characters left out');
  });
});
