import type { LogLine, RunEventList } from '../contracts/index.js';

/**
 * A run's log as lines, read from its stored events page by page (never whole in memory): the
 * text of its `output` events, every stream, in seq order, split at `\n` with a trailing `\r`
 * dropped, numbered from 1 (see LogLine in contracts). A line longer than MAX_LINE_CHARS keeps
 * its first MAX_LINE_CHARS characters and is marked `cut`, so one line without a newline in
 * 100 MB of output costs 16 KiB, not 100 MB.
 */
export const MAX_LINE_CHARS = 16 * 1024;

type ListEvents = (after: number, limit: number) => Promise<RunEventList>;

const PAGE = 1000;

export async function* runLogLines(listEvents: ListEvents): AsyncGenerator<LogLine> {
  let after = 0;
  let line = 1;
  let text = '';
  let seq = 0;
  let cut = false;
  let open = false;
  const take = (): LogLine => {
    const done: LogLine = {
      line: line++,
      seq,
      text: text.endsWith('\r') ? text.slice(0, -1) : text,
    };
    if (cut) done.cut = true;
    text = '';
    cut = false;
    open = false;
    return done;
  };
  const append = (part: string, at: number): void => {
    if (!open) {
      seq = at;
      open = true;
    }
    const room = MAX_LINE_CHARS - text.length;
    if (part.length > room) {
      text += part.slice(0, Math.max(0, room));
      cut = true;
    } else text += part;
  };
  for (;;) {
    const page = await listEvents(after, PAGE);
    for (const event of page.events) {
      if (event.type !== 'output' || typeof event.data.text !== 'string') continue;
      const chunk = event.data.text;
      let start = 0;
      let nl: number;
      while ((nl = chunk.indexOf('\n', start)) >= 0) {
        append(chunk.slice(start, nl), event.seq);
        yield take();
        start = nl + 1;
      }
      if (start < chunk.length) append(chunk.slice(start), event.seq);
    }
    if (page.events.length === 0 || page.lastSeq <= after) break;
    after = page.lastSeq;
  }
  // The last line, still without its newline (a running run's may yet grow).
  if (open) yield take();
}

/** Case-insensitive search; at most `limit` matches, and whether there were more. */
export async function searchRunLog(
  listEvents: ListEvents,
  q: string,
  limit: number,
): Promise<{ matches: LogLine[]; truncated: boolean; totalLines: number }> {
  const needle = q.toLowerCase();
  const matches: LogLine[] = [];
  let truncated = false;
  let total = 0;
  for await (const l of runLogLines(listEvents)) {
    total = l.line;
    if (!l.text.toLowerCase().includes(needle)) continue;
    if (matches.length < limit) matches.push(l);
    else truncated = true;
  }
  return { matches, truncated, totalLines: total };
}

/** Lines `start` to `start + count - 1`, and how many lines the log has. */
export async function runLogSlice(
  listEvents: ListEvents,
  start: number,
  count: number,
): Promise<{ lines: LogLine[]; totalLines: number }> {
  const lines: LogLine[] = [];
  let total = 0;
  for await (const l of runLogLines(listEvents)) {
    total = l.line;
    if (l.line >= start && l.line < start + count) lines.push(l);
  }
  return { lines, totalLines: total };
}
