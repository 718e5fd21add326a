import { describe, expect, it } from 'vitest';
import { OutputCap } from './output-buffer.js';

describe('OutputCap', () => {
  it('passes output under the cap straight through', () => {
    const cap = new OutputCap({ maxBytes: 100, policy: 'truncate', tailBytes: 10 });
    expect(cap.push('stdout', Buffer.from('hello\n')).emit).toBe('hello\n');
    expect(cap.finish()).toEqual([]);
    expect(cap.droppedBytes).toBe(0);
  });

  it('never garbles a character split across chunks', () => {
    const cap = new OutputCap({ maxBytes: 100, policy: 'truncate', tailBytes: 10 });
    const bytes = Buffer.from('✓日');
    expect(cap.push('stdout', bytes.subarray(0, 2)).emit).toBe('');
    expect(cap.push('stdout', bytes.subarray(2)).emit).toBe('✓日');
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
    const tail = cap
      .finish()
      .map((p) => p.text)
      .join('');
    expect(head).toBe(input.slice(0, 900));
    expect(tail).toBe(input.slice(-100));
    expect(head.length + tail.length + cap.droppedBytes).toBe(cap.totalBytes);
    expect(cap.totalBytes).toBe(input.length);
  });

  it('bounds the tail to a quarter of the cap', () => {
    const cap = new OutputCap({ maxBytes: 400, policy: 'truncate', tailBytes: 10_000 });
    expect(cap.tailLimit).toBe(100);
    expect(cap.headLimit).toBe(300);
  });

  it('kill: reports the limit exactly once', () => {
    const cap = new OutputCap({ maxBytes: 10, policy: 'kill', tailBytes: 0 });
    expect(cap.push('stdout', Buffer.from('12345')).limitExceeded).toBe(false);
    const over = cap.push('stdout', Buffer.from('67890abc'));
    expect(over).toEqual({ emit: '67890', limitExceeded: true });
    expect(cap.push('stdout', Buffer.from('more')).limitExceeded).toBe(false);
    expect(cap.droppedBytes).toBe(7);
  });

  it('keeps memory bounded whatever the input', () => {
    const cap = new OutputCap({ maxBytes: 1024 * 1024, policy: 'truncate', tailBytes: 256 * 1024 });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let i = 0; i < 800; i++) cap.push('stdout', chunk); // 50 MiB
    const tail = cap.finish();
    expect(tail.reduce((n, p) => n + p.text.length, 0)).toBe(256 * 1024);
    expect(cap.droppedBytes).toBe(800 * 64 * 1024 - 1024 * 1024);
  });
});
