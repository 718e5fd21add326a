import { describe, expect, it } from 'vitest';
import type { RunEvent, RunEventList } from '../contracts/index.js';
import { MAX_LINE_CHARS, runLogLines, runLogSlice, searchRunLog } from './run-log.js';

/** A run's stored events, paged the way the engine pages them. */
function eventsOf(chunks: (string | RunEvent['data'])[]) {
  const events: RunEvent[] = chunks.map((c, i) => ({
    runId: 'r',
    seq: i + 1,
    type: typeof c === 'string' ? 'output' : 'status',
    ts: '2026-01-01T00:00:00.000Z',
    data: typeof c === 'string' ? { stream: i % 2 ? 'stderr' : 'stdout', text: c } : c,
  }));
  return async (after: number, limit: number): Promise<RunEventList> => {
    const page = events.filter((e) => e.seq > after).slice(0, Math.min(limit, 2));
    return { events: page, lastSeq: page.at(-1)?.seq ?? after, done: page.length === 0 };
  };
}

async function all(list: ReturnType<typeof eventsOf>) {
  const out = [];
  for await (const l of runLogLines(list)) out.push(l);
  return out;
}

describe('a run log as numbered lines', () => {
  it('joins lines split across events and streams, skips other events, drops \\r', async () => {
    const lines = await all(
      eventsOf(['one\ntw', { status: 'running' }, 'o\r\nthree\n\nfi', 've', '\n', 'last']),
    );
    expect(lines).toEqual([
      { line: 1, seq: 1, text: 'one' },
      { line: 2, seq: 1, text: 'two' },
      { line: 3, seq: 3, text: 'three' },
      { line: 4, seq: 3, text: '' },
      { line: 5, seq: 3, text: 'five' },
      { line: 6, seq: 6, text: 'last' },
    ]);
  });

  it('cuts a line longer than the cap and keeps counting after it', async () => {
    const long = 'x'.repeat(MAX_LINE_CHARS + 10);
    const lines = await all(eventsOf([long.slice(0, 9000), long.slice(9000) + '\nnext\n']));
    expect(lines[0]!.text).toHaveLength(MAX_LINE_CHARS);
    expect(lines[0]!.cut).toBe(true);
    expect(lines[1]).toEqual({ line: 2, seq: 2, text: 'next' });
  });

  it('searches case-insensitively and slices by line number', async () => {
    const list = eventsOf(['Alpha\nbeta\n', 'ALPHA beta\ngamma']);
    const found = await searchRunLog(list, 'alpha', 1);
    expect(found).toEqual({
      matches: [{ line: 1, seq: 1, text: 'Alpha' }],
      truncated: true,
      totalLines: 4,
    });
    expect(await runLogSlice(list, 3, 5)).toEqual({
      lines: [
        { line: 3, seq: 2, text: 'ALPHA beta' },
        { line: 4, seq: 2, text: 'gamma' },
      ],
      totalLines: 4,
    });
  });
});
