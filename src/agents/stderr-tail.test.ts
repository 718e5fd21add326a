import { describe, expect, it } from 'vitest';
import { StderrTail, stripAnsi } from './stderr-tail.js';

describe('StderrTail', () => {
  it('keeps the last meaningful lines without ANSI codes, blank lines or stack frames', () => {
    const tail = new StderrTail();
    tail.push('\u001b[31mError:\u001b[0m first\n\n');
    tail.push('  at main (/x/cli.js:10:3)\n────────\n');
    tail.push('\u001b]8;;http://x\u0007link\u001b]8;;\u0007 Please set an Auth method\n');
    expect(tail.lines()).toEqual(['Error: first', 'link Please set an Auth method']);
    expect(tail.last()).toBe('link Please set an Auth method');
  });

  it('is bounded, and says nothing when stderr was empty', () => {
    const tail = new StderrTail(16);
    expect(tail.last()).toBeUndefined();
    tail.push('a'.repeat(100) + '\nlast line\n');
    expect(tail.last()).toBe('last line');
  });

  it('strips colour codes', () => {
    expect(stripAnsi('\u001b[1;33mwarn\u001b[0m')).toBe('warn');
  });
});
