import { StringDecoder } from 'node:string_decoder';

export type OutputStream = 'stdout' | 'stderr' | 'pty';

export interface OutputCapOptions {
  maxBytes: number;
  policy: 'kill' | 'truncate';
  /** With `truncate`: bytes kept from the end (bounded to a quarter of maxBytes). */
  tailBytes: number;
}

export interface OutputDecision {
  /** Text to emit now (may be empty). */
  emit: string;
  /** True when the cap was just crossed under the `kill` policy. */
  limitExceeded: boolean;
}

interface TailChunk {
  stream: OutputStream;
  data: Buffer;
}

/**
 * Applies the output cap. Head bytes pass straight through (decoded as UTF-8, never
 * splitting a character); past the head, `truncate` keeps a bounded tail ring and counts the
 * rest as dropped, while `kill` reports the limit. Memory is O(tailBytes) whatever the input.
 */
export class OutputCap {
  readonly headLimit: number;
  readonly tailLimit: number;
  private readonly policy: 'kill' | 'truncate';
  private readonly decoders = new Map<OutputStream, StringDecoder>();
  private tail: TailChunk[] = [];
  private tailSize = 0;
  totalBytes = 0;
  headBytes = 0;
  droppedBytes = 0;
  exceeded = false;

  constructor(options: OutputCapOptions) {
    this.policy = options.policy;
    this.tailLimit =
      options.policy === 'truncate'
        ? Math.max(0, Math.min(options.tailBytes, Math.floor(options.maxBytes / 4)))
        : 0;
    this.headLimit = options.maxBytes - this.tailLimit;
  }

  private decoder(stream: OutputStream): StringDecoder {
    let d = this.decoders.get(stream);
    if (!d) {
      d = new StringDecoder('utf8');
      this.decoders.set(stream, d);
    }
    return d;
  }

  push(stream: OutputStream, chunk: Buffer): OutputDecision {
    this.totalBytes += chunk.length;
    const room = this.headLimit - this.headBytes;
    let emit = '';
    let rest: Buffer | null = null;
    if (room > 0) {
      const head = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.headBytes += head.length;
      emit = this.decoder(stream).write(head);
      if (head.length < chunk.length) rest = chunk.subarray(head.length);
    } else {
      rest = chunk;
    }
    if (!rest) return { emit, limitExceeded: false };

    if (this.policy === 'kill') {
      const first = !this.exceeded;
      this.exceeded = true;
      this.droppedBytes += rest.length;
      return { emit, limitExceeded: first };
    }
    if (!this.exceeded) {
      this.exceeded = true;
      // Flush what the decoder held back so the head ends cleanly.
      emit += this.decoder(stream).end();
    }
    this.pushTail(stream, rest);
    return { emit, limitExceeded: false };
  }

  private pushTail(stream: OutputStream, data: Buffer): void {
    if (this.tailLimit === 0) {
      this.droppedBytes += data.length;
      return;
    }
    if (data.length >= this.tailLimit) {
      this.droppedBytes += this.tailSize + data.length - this.tailLimit;
      // Copy: the slice must not pin the (possibly large) chunk it came from.
      this.tail = [{ stream, data: Buffer.from(data.subarray(data.length - this.tailLimit)) }];
      this.tailSize = this.tailLimit;
      return;
    }
    // Copy only a slice that would pin a much larger buffer; a whole read chunk is kept as is.
    const pins = data.buffer.byteLength > 2 * data.length;
    this.tail.push({ stream, data: pins ? Buffer.from(data) : data });
    this.tailSize += data.length;
    while (this.tailSize > this.tailLimit) {
      const first = this.tail[0]!;
      const excess = this.tailSize - this.tailLimit;
      if (first.data.length <= excess) {
        this.tail.shift();
        this.tailSize -= first.data.length;
        this.droppedBytes += first.data.length;
      } else {
        first.data = first.data.subarray(excess);
        this.tailSize -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  /** At the end: whatever the decoders held back, then the tail, stream by stream. */
  finish(): { stream: OutputStream; text: string; tail: boolean }[] {
    const out: { stream: OutputStream; text: string; tail: boolean }[] = [];
    if (!this.exceeded) {
      for (const [stream, d] of this.decoders) {
        const text = d.end();
        if (text) out.push({ stream, text, tail: false });
      }
    }
    // Merge adjacent chunks of one stream; decode each run as a whole.
    let current: TailChunk | null = null;
    const merged: TailChunk[] = [];
    for (const c of this.tail) {
      if (current && current.stream === c.stream) {
        current.data = Buffer.concat([current.data, c.data]);
      } else {
        current = { stream: c.stream, data: c.data };
        merged.push(current);
      }
    }
    for (const c of merged)
      out.push({ stream: c.stream, text: c.data.toString('utf8'), tail: true });
    this.tail = [];
    this.tailSize = 0;
    return out;
  }
}
