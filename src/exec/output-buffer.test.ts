import { describe, expect, it } from 'vitest';
import { OutputCap, type OutputStream } from './output-buffer.js';

/** Feeds `input` in `chunkSize` pieces; returns the head as emitted and the finished tail. */
function feed(cap: OutputCap, input: Buffer, chunkSize: number, stream: OutputStream = 'stdout') {
  let head = '';
  for (let i = 0; i < input.length; i += chunkSize) {
    head += cap.push(stream, input.subarray(i, i + chunkSize)).emit;
  }
  const pieces = cap.finish();
  return { head, pieces, tail: pieces.map((p) => p.text).join('') };
}

/** What the cap holds in its tail ring (private: the memory bound is the point of the class). */
function tailChunks(cap: OutputCap): { data: Buffer }[] {
  return (cap as unknown as { tail: { data: Buffer }[] }).tail;
}

describe('OutputCap', () => {
  it('passes output under the cap straight through', () => {
    const cap = new OutputCap({ maxBytes: 100, policy: 'truncate', tailBytes: 10 });
    expect(cap.push('stdout', Buffer.from('hello\n')).emit).toBe('hello\n');
    expect(cap.push('stderr', Buffer.from('oops\n')).emit).toBe('oops\n');
    expect(cap.finish()).toEqual([]);
    expect(cap).toMatchObject({ droppedBytes: 0, totalBytes: 11, headBytes: 11, exceeded: false });
  });

  it('output of exactly the head limit is not over the cap', () => {
    const cap = new OutputCap({ maxBytes: 10, policy: 'kill', tailBytes: 0 });
    expect(cap.push('stdout', Buffer.from('0123456789'))).toEqual({
      emit: '0123456789',
      limitExceeded: false,
    });
    expect(cap.exceeded).toBe(false);
    expect(cap.push('stdout', Buffer.from('x')).limitExceeded).toBe(true);
  });

  it('never garbles a character split across chunks', () => {
    const cap = new OutputCap({ maxBytes: 100, policy: 'truncate', tailBytes: 10 });
    const bytes = Buffer.from('✓日');
    expect(cap.push('stdout', bytes.subarray(0, 2)).emit).toBe('');
    expect(cap.push('stdout', bytes.subarray(2, 4)).emit).toBe('✓');
    expect(cap.push('stdout', bytes.subarray(4)).emit).toBe('日');
  });

  it('decodes each stream on its own: interleaved halves do not mix', () => {
    const cap = new OutputCap({ maxBytes: 100, policy: 'truncate', tailBytes: 10 });
    const out = Buffer.from('🚀');
    const err = Buffer.from('é');
    const emitted = [
      cap.push('stdout', out.subarray(0, 2)).emit,
      cap.push('stderr', err.subarray(0, 1)).emit,
      cap.push('stdout', out.subarray(2)).emit,
      cap.push('stderr', err.subarray(1)).emit,
    ];
    expect(emitted).toEqual(['', '', '🚀', 'é']);
  });

  it('truncate: head + tail + dropped add up to everything, and the tail is the end', () => {
    const cap = new OutputCap({ maxBytes: 1000, policy: 'truncate', tailBytes: 100 });
    let head = '';
    let input = '';
    for (let i = 0; i < 500; i++) {
      const line = `line ${i}\n`;
      input += line;
      head += cap.push('stdout', Buffer.from(line)).emit;
    }
    const pieces = cap.finish();
    const tail = pieces.map((p) => p.text).join('');
    expect(pieces.every((p) => p.tail && p.stream === 'stdout')).toBe(true);
    expect(head).toBe(input.slice(0, 900));
    expect(tail).toBe(input.slice(-100));
    expect(head.length + tail.length + cap.droppedBytes).toBe(cap.totalBytes);
    expect(cap.totalBytes).toBe(input.length);
  });

  // Sizes chosen so that the head ends or the tail starts inside a multi-byte character,
  // and chunk edges fall inside characters too (13-byte pattern, 1000-byte chunks).
  it.each([
    { maxBytes: 10_004, tailBytes: 2_499 },
    { maxBytes: 10_005, tailBytes: 2_498 },
    { maxBytes: 10_006, tailBytes: 2_497 },
    { maxBytes: 7_777, tailBytes: 1_001 }, // both cuts on character boundaries
  ])(
    'truncate: a multi-byte character cut by the cap is dropped whole ($maxBytes/$tailBytes)',
    ({ maxBytes, tailBytes }) => {
      const text = '✓日本🚀'.repeat(2000);
      const input = Buffer.from(text);
      const cap = new OutputCap({ maxBytes, policy: 'truncate', tailBytes });
      const { head, tail } = feed(cap, input, 1000);
      // (Booleans: a failure should not print 26 KB of text.)
      expect(head.includes('\ufffd')).toBe(false);
      expect(tail.includes('\ufffd')).toBe(false);
      expect(text.startsWith(head)).toBe(true);
      expect(text.endsWith(tail)).toBe(true);
      // At most one character (4 bytes) is lost at each cut.
      expect(Buffer.byteLength(head)).toBeGreaterThan(cap.headLimit - 4);
      expect(Buffer.byteLength(head)).toBeLessThanOrEqual(cap.headLimit);
      expect(Buffer.byteLength(tail)).toBeGreaterThan(cap.tailLimit - 4);
      expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(cap.tailLimit);
      // Exact accounting, in bytes.
      expect(cap.headBytes).toBe(Buffer.byteLength(head));
      expect(Buffer.byteLength(head) + Buffer.byteLength(tail) + cap.droppedBytes).toBe(
        input.length,
      );
      expect(cap.totalBytes).toBe(input.length);
    },
  );

  it('truncate: a character split across two chunks of one stream in the tail stays whole', () => {
    const cap = new OutputCap({ maxBytes: 40, policy: 'truncate', tailBytes: 10 });
    cap.push('stdout', Buffer.from('x'.repeat(30))); // fills the head
    const rocket = Buffer.from('🚀');
    cap.push('stdout', rocket.subarray(0, 2));
    cap.push('stderr', Buffer.from('E'));
    cap.push('stdout', rocket.subarray(2));
    const pieces = cap.finish();
    expect(
      pieces
        .filter((p) => p.stream === 'stdout')
        .map((p) => p.text)
        .join(''),
    ).toBe('🚀');
    expect(pieces.filter((p) => p.stream === 'stderr').map((p) => p.text)).toEqual(['E']);
    expect(pieces.every((p) => p.tail)).toBe(true);
    expect(cap.droppedBytes).toBe(0);
  });

  it('truncate: keeps the order of streams within the tail', () => {
    const cap = new OutputCap({ maxBytes: 40, policy: 'truncate', tailBytes: 10 });
    cap.push('stdout', Buffer.from('h'.repeat(30)));
    cap.push('stdout', Buffer.from('aaaa'));
    cap.push('stderr', Buffer.from('bb'));
    cap.push('stdout', Buffer.from('cc'));
    expect(cap.finish().map((p) => [p.stream, p.text])).toEqual([
      ['stdout', 'aaaa'],
      ['stderr', 'bb'],
      ['stdout', 'cc'],
    ]);
  });

  it('bounds the tail to a quarter of the cap', () => {
    const cap = new OutputCap({ maxBytes: 400, policy: 'truncate', tailBytes: 10_000 });
    expect(cap.tailLimit).toBe(100);
    expect(cap.headLimit).toBe(300);
    const { tail } = feed(cap, Buffer.alloc(10_000, 'z'), 64);
    expect(tail.length).toBe(100);
  });

  it('kill: keeps no tail and reports the limit exactly once', () => {
    const cap = new OutputCap({ maxBytes: 10, policy: 'kill', tailBytes: 1000 });
    expect(cap.tailLimit).toBe(0);
    expect(cap.push('stdout', Buffer.from('12345')).limitExceeded).toBe(false);
    const over = cap.push('stdout', Buffer.from('67890abc'));
    expect(over).toEqual({ emit: '67890', limitExceeded: true });
    expect(cap.push('stdout', Buffer.from('more'))).toEqual({ emit: '', limitExceeded: false });
    expect(cap.push('stderr', Buffer.from('even more'))).toEqual({
      emit: '',
      limitExceeded: false,
    });
    expect(cap.finish()).toEqual([]);
    expect(cap.droppedBytes).toBe(3 + 4 + 9);
    expect(cap.totalBytes).toBe(cap.headBytes + cap.droppedBytes);
  });

  it('kill: a character cut at the cap is counted as dropped, never emitted as U+FFFD', () => {
    const cap = new OutputCap({ maxBytes: 5, policy: 'kill', tailBytes: 0 });
    const out = cap.push('stdout', Buffer.from('abcd✓'));
    expect(out).toEqual({ emit: 'abcd', limitExceeded: true });
    expect(cap.finish()).toEqual([]);
    expect(cap.headBytes).toBe(4);
    expect(cap.droppedBytes).toBe(3);
  });

  it('keeps memory bounded whatever the input', () => {
    const tailBytes = 256 * 1024;
    const cap = new OutputCap({ maxBytes: 1024 * 1024, policy: 'truncate', tailBytes });
    // Slices of one big buffer, like pipe reads: a kept chunk must not pin its parent.
    const parent = Buffer.alloc(4 * 1024 * 1024, 'a');
    let maxChunks = 0;
    let maxHeld = 0;
    for (let i = 0; i < 800; i++) {
      // 50 MiB in total, in 64 KiB chunks and some small ones.
      const size = i % 10 === 0 ? 100 : 64 * 1024;
      const offset = (i * 64 * 1024) % (parent.length - size);
      cap.push('stdout', parent.subarray(offset, offset + size));
      const chunks = tailChunks(cap);
      maxChunks = Math.max(maxChunks, chunks.length);
      const held = chunks.reduce((n, c) => n + c.data.buffer.byteLength, 0);
      maxHeld = Math.max(maxHeld, held);
    }
    // At most tailBytes of data, in a bounded number of chunks, pinning little beyond it.
    expect(maxChunks).toBeLessThanOrEqual(tailBytes / 100 + 2);
    expect(maxHeld).toBeLessThan(4 * tailBytes);
    const total = cap.totalBytes;
    const tail = cap.finish();
    const tailSize = tail.reduce((n, p) => n + p.text.length, 0);
    expect(tailSize).toBe(tailBytes);
    expect(cap.headBytes + tailSize + cap.droppedBytes).toBe(total);
    expect(tailChunks(cap)).toEqual([]);
  });
});
