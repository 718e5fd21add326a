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

/** Bytes at the end of `buf` that begin a UTF-8 character without completing it (0-3). */
function incompleteUtf8End(buf: Buffer): number {
  const n = buf.length;
  for (let i = n - 1; i >= Math.max(0, n - 3); i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf8 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > n ? n - i : 0;
  }
  return 0;
}

/** Continuation bytes at the start of `buf`: the rest of a character whose start was dropped. */
function orphanedUtf8Start(buf: Buffer): number {
  let i = 0;
  while (i < 3 && i < buf.length && (buf[i]! & 0xc0) === 0x80) i++;
  return i;
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
  /** Per stream, the latest head bytes (3 or more when there are): a cut character shows here. */
  private readonly headEnds = new Map<OutputStream, Buffer>();
  private tail: TailChunk[] = [];
  private tailSize = 0;
  totalBytes = 0;
  /**
   * Head bytes emitted. After finish(), for valid UTF-8:
   * totalBytes = headBytes + bytes of the tail text + droppedBytes.
   */
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
    const room = this.exceeded ? 0 : this.headLimit - this.headBytes;
    let emit = '';
    let rest: Buffer | null = null;
    if (room > 0) {
      const head = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.headBytes += head.length;
      const prev = this.headEnds.get(stream);
      this.headEnds.set(
        stream,
        head.length >= 3 || !prev ? head : Buffer.concat([prev.subarray(-3), head]),
      );
      emit = this.decoder(stream).write(head);
      if (head.length < chunk.length) rest = chunk.subarray(head.length);
    } else {
      rest = chunk;
    }
    if (!rest) return { emit, limitExceeded: false };

    const first = !this.exceeded;
    if (first) this.endHead();
    if (this.policy === 'kill') {
      this.droppedBytes += rest.length;
      return { emit, limitExceeded: first };
    }
    this.pushTail(stream, rest);
    return { emit, limitExceeded: false };
  }

  /**
   * The head is complete. A character the cap cut in two (on any stream) is dropped whole:
   * its first bytes, held back by the decoder, are counted as dropped instead of being
   * flushed as U+FFFD.
   */
  private endHead(): void {
    this.exceeded = true;
    for (const end of this.headEnds.values()) {
      const partial = incompleteUtf8End(end);
      this.headBytes -= partial;
      this.droppedBytes += partial;
    }
    this.headEnds.clear();
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
    // One decoder per stream across the whole tail: a character split between two chunks of
    // one stream (with the other stream's output in between) stays whole.
    const tailDecoders = new Map<OutputStream, StringDecoder>();
    for (const c of merged) {
      let data = c.data;
      let d = tailDecoders.get(c.stream);
      if (!d) {
        // The stream's tail may begin inside a character whose start was dropped.
        const orphaned = orphanedUtf8Start(data);
        this.droppedBytes += orphaned;
        data = data.subarray(orphaned);
        d = new StringDecoder('utf8');
        tailDecoders.set(c.stream, d);
      }
      const text = d.write(data);
      if (text) out.push({ stream: c.stream, text, tail: true });
    }
    for (const [stream, d] of tailDecoders) {
      const text = d.end();
      if (text) out.push({ stream, text, tail: true });
    }
    this.tail = [];
    this.tailSize = 0;
    return out;
  }
}
