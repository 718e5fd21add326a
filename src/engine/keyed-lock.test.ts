import { describe, expect, it } from 'vitest';
import { createKeyedLock } from './keyed-lock.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createKeyedLock', () => {
  it('runs one function at a time per key, in call order, and keys independently', async () => {
    const withLock = createKeyedLock();
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await tick(ms);
      log.push(`${name}-`);
    };
    await Promise.all([
      withLock('a', job('a1', 30)),
      withLock('a', job('a2', 1)),
      withLock('b', job('b1', 5)),
    ]);
    expect(log.indexOf('a1-')).toBeLessThan(log.indexOf('a2+'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-')); // b did not wait for a
  });

  it('a failure reaches its caller but does not block the next', async () => {
    const withLock = createKeyedLock();
    const failed = withLock('k', async () => {
      throw new Error('boom');
    });
    const next = withLock('k', async () => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
