import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import { createDomainEvents } from './domain-events.js';

describe('domain events', () => {
  it('calls listeners in order, isolates their failures, and waits for async ones', async () => {
    const events = createDomainEvents(createSilentLogger());
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    events.on('runRequeued', () => {
      throw new Error('boom');
    });
    events.on('runRequeued', async (e) => {
      await gate;
      seen.push(`async ${e.reason}`);
    });
    const off = events.on('runRequeued', (e) => void seen.push(`sync ${e.reason}`));
    events.emit('runRequeued', { run: { id: 'r1' } as never, reason: 'drained' });
    expect(seen).toEqual(['sync drained']);
    let settled = false;
    const waiting = events.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    release();
    await waiting;
    expect(seen).toEqual(['sync drained', 'async drained']);
    off();
    events.emit('runRequeued', { run: { id: 'r2' } as never, reason: 'lost' });
    await events.settled();
    expect(seen).toEqual(['sync drained', 'async drained', 'async lost']);
  });
});
