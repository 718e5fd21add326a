/**
 * A run's events as the run page holds them: every event by seq (duplicates dropped), and the
 * log lines of its output. Line numbers count the output text (stdout and stderr together,
 * in seq order) split at newlines, from 1: the numbering of `?line=` permalinks and of the
 * server's log search. A line is an immutable object, replaced when more text extends it, so
 * rows can be memoized by identity.
 */
import type { RunEvent } from '../../../src/contracts/index.js';

export interface LogLine {
  /** 1-based line number */
  readonly n: number;
  readonly text: string;
  readonly stream: string;
}

export class EventStore {
  readonly events: RunEvent[] = [];
  readonly lines: LogLine[] = [];
  lastSeq = 0;
  /** The last line has no newline yet: the next output continues it. */
  private open = false;
  private rawChunks: string[] = [];

  /** Appends events in seq order; ignores any already held. Answers how many were new. */
  append(batch: readonly RunEvent[]): number {
    let added = 0;
    for (const event of batch) {
      if (event.seq <= this.lastSeq) continue;
      this.lastSeq = event.seq;
      this.events.push(event);
      added++;
      if (event.type === 'output') this.addOutput(event);
    }
    return added;
  }

  private addOutput(event: RunEvent): void {
    const text = typeof event.data.text === 'string' ? event.data.text : '';
    const stream = typeof event.data.stream === 'string' ? event.data.stream : 'stdout';
    if (text === '') return;
    this.rawChunks.push(text);
    const parts = text.split('\n');
    const last = this.lines.at(-1);
    let first = 0;
    if (this.open && last) {
      this.lines[this.lines.length - 1] = { ...last, text: last.text + (parts[0] ?? '') };
      first = 1;
    }
    for (let i = first; i < parts.length; i++) {
      // The empty string after a final newline is not a line of its own.
      if (i === parts.length - 1 && parts[i] === '') break;
      this.lines.push({ n: this.lines.length + 1, text: parts[i] ?? '', stream });
    }
    this.open = !text.endsWith('\n');
  }

  /** The whole output as the run printed it. */
  rawText(): string {
    if (this.rawChunks.length > 1) this.rawChunks = [this.rawChunks.join('')];
    return this.rawChunks[0] ?? '';
  }
}
