import { describe, expect, it } from 'vitest';
import { splitMessage } from './split.js';

describe('splitMessage', () => {
  it('keeps a short text whole', () => {
    expect(splitMessage('hello')).toEqual(['hello']);
    expect(splitMessage('')).toEqual(['']);
  });

  it('cuts at line breaks, never above the limit, losing nothing', () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const parts = splitMessage(text, 4096);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096);
    expect(parts.join('')).toBe(text);
    for (const p of parts.slice(0, -1)) expect(p.endsWith('\n')).toBe(true);
  });

  it('cuts a text without spaces at the limit, but not inside a surrogate pair', () => {
    const text = 'a'.repeat(4095) + '😀' + 'b'.repeat(10);
    const parts = splitMessage(text, 4096);
    expect(parts[0]).toBe('a'.repeat(4095));
    expect(parts.join('')).toBe(text);
    expect(splitMessage('c'.repeat(8193), 4096).map((p) => p.length)).toEqual([4096, 4096, 1]);
  });
});
