import { describe, expect, it } from 'vitest';
import { PatchbayError } from '../../../contracts/index.js';
import {
  exitCodeOf,
  LineAssembler,
  MAX_CHUNK_CHARS,
  MAX_LINE_CHARS,
  outputMessages,
  rpcError,
} from './protocol.js';

describe('cc_executor protocol', () => {
  it('reassembles lines per stream across arbitrary splits, holding the partial rest', () => {
    const lines = new LineAssembler();
    expect(lines.push('stdout', 'ab')).toEqual([]);
    expect(lines.push('stderr', 'e1\ne')).toEqual(['e1\n']);
    expect(lines.push('stdout', 'c\nd\n\nx')).toEqual(['abc\n', 'd\n', '\n']);
    expect(lines.hasPending).toBe(true);
    expect(lines.flush()).toEqual([
      ['stdout', 'x'],
      ['stderr', 'e'],
    ]);
    expect(lines.hasPending).toBe(false);
    // A line without end is handed out in MAX_LINE_CHARS pieces rather than held forever.
    expect(lines.push('stdout', 'z'.repeat(MAX_LINE_CHARS + 5)).map((l) => l.length)).toEqual([
      MAX_LINE_CHARS,
    ]);
  });

  it('sends a short line whole and a long one in numbered 64 KB chunks', () => {
    expect(outputMessages('stdout', 'hi\n')).toEqual([
      { type: 'stdout', data: 'hi\n', truncated: false, chunk_index: null, total_chunks: null },
    ]);
    expect(outputMessages('stderr', 'y'.repeat(MAX_CHUNK_CHARS))).toHaveLength(1);
    const line = `${'a'.repeat(2 * MAX_CHUNK_CHARS)}b\n`;
    const chunks = outputMessages('stdout', line);
    expect(chunks.map((c) => [c.chunk_index, c.total_chunks, c.truncated, c.data.length])).toEqual([
      [0, 3, true, MAX_CHUNK_CHARS],
      [1, 3, true, MAX_CHUNK_CHARS],
      [2, 3, false, 2],
    ]);
    expect(chunks.map((c) => c.data).join('')).toBe(line);
  });

  it('answers refusals of a command as -32602 SECURITY_DENIED and keeps the catalog code', () => {
    const denied = rpcError(7, new PatchbayError('COMMAND_NOT_ALLOWED', 'no rm'));
    expect(denied).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32602,
        message: 'no rm',
        data: { code: 'COMMAND_NOT_ALLOWED', type: 'SECURITY_DENIED' },
      },
    });
    expect(rpcError(null, new PatchbayError('CC_EXECUTOR_NO_PROCESS')).error.code).toBe(-32002);
    expect('id' in rpcError(null, new PatchbayError('RPC_PARSE_ERROR'))).toBe(false);
    expect(rpcError(1, new PatchbayError('BUDGET_EXCEEDED')).error.code).toBe(-32603);
  });

  it('reports a signal as minus its number, as asyncio does', () => {
    expect(exitCodeOf(3, null)).toBe(3);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(-15);
    expect(exitCodeOf(null, 'SIGKILL')).toBe(-9);
    expect(exitCodeOf(null, null)).toBeNull();
  });
});
