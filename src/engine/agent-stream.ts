import { stripAnsi, type NormalizedEvent, type StreamParser } from '../agents/index.js';

/** A line longer than this is handed to the parser as it is (it will pass through as output). */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/**
 * Splits an agent's stdout into lines for its parser. Text arrives in arbitrary chunks; the
 * tail kept after an output cap starts a new, discontinuous stream (its first line is cut).
 */
export function createAgentStream(
  parser: StreamParser,
  emit: (event: NormalizedEvent) => void,
  onFinished: () => void,
) {
  let partial = '';
  let stderrPartial = '';
  let inTail = false;
  let finishedSeen = false;
  const feed = (line: string): void => {
    for (const event of parser.line(line)) emit(event);
    if (!finishedSeen && parser.facts.finished) {
      finishedSeen = true;
      onFinished();
    }
  };
  return {
    push(text: string, tail: boolean): void {
      if (tail && !inTail) {
        inTail = true;
        if (partial) feed(partial); // the head's last line, cut by the cap
        partial = '';
      }
      const buffer = partial + text;
      let start = 0;
      let nl: number;
      while ((nl = buffer.indexOf('\n', start)) >= 0) {
        const end = nl > start && buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        feed(buffer.slice(start, end));
        start = nl + 1;
      }
      partial = buffer.slice(start);
      if (partial.length > MAX_LINE_CHARS) {
        feed(partial);
        partial = '';
      }
    },
    /**
     * The agent's stderr, for parsers that read it (StreamParser.stderrLine): whole lines,
     * ANSI stripped. The text is stored as output events by the caller either way.
     */
    pushStderr(text: string): void {
      const stderrLine = parser.stderrLine?.bind(parser);
      if (!stderrLine) return;
      const lines = (stderrPartial + text).split('\n');
      stderrPartial = lines.pop()!.slice(-MAX_LINE_CHARS);
      for (const line of lines) {
        for (const event of stderrLine(stripAnsi(line.replace(/\r$/, '')))) emit(event);
      }
    },
    end(): void {
      if (partial) feed(partial);
      partial = '';
      if (stderrPartial) this.pushStderr('\n');
      for (const event of parser.end()) emit(event);
    },
  };
}
