import { describe, expect, it } from 'vitest';
import { usageShare } from './usage-share.js';

const u = (input: number, output: number, cacheRead = 0, cacheWrite = 0) => ({
  input,
  output,
  cacheRead,
  cacheWrite,
});

describe('usageShare', () => {
  it('keeps per-run figures as they are, with no session figures', () => {
    expect(usageShare({ usage: u(10, 5), costUsd: 0.5 }, undefined)).toEqual({
      usage: u(10, 5),
      costUsd: 0.5,
      sessionUsage: null,
      sessionCostUsd: null,
    });
  });

  it('counts the first run of a session whole', () => {
    expect(
      usageShare({ usage: u(10, 5, 2), costUsd: 0.5, usageScope: 'session' }, undefined),
    ).toEqual({ usage: u(10, 5, 2), costUsd: 0.5, sessionUsage: u(10, 5, 2), sessionCostUsd: 0.5 });
  });

  it('stores a resumed run’s share: the session minus what the run before left', () => {
    const previous = { sessionUsage: u(10, 5, 2, 1), sessionCostUsd: 0.5 };
    const share = usageShare(
      { usage: u(25, 9, 7, 1), costUsd: 1.25, usageScope: 'session' },
      previous,
    );
    expect(share.usage).toEqual(u(15, 4, 5, 0));
    expect(share.costUsd).toBeCloseTo(0.75, 10);
    expect(share.sessionUsage).toEqual(u(25, 9, 7, 1));
    expect(share.sessionCostUsd).toBe(1.25);
  });

  it('counts a session that shrank (a new session under an old id) whole', () => {
    const previous = { sessionUsage: u(100, 50), sessionCostUsd: 2 };
    const share = usageShare({ usage: u(10, 5), costUsd: 0.1, usageScope: 'session' }, previous);
    expect(share.usage).toEqual(u(10, 5));
    expect(share.costUsd).toBe(0.1);
  });

  it('takes a previous run with no session figures as no base', () => {
    const previous = { sessionUsage: null, sessionCostUsd: null };
    const share = usageShare({ usage: u(10, 5), costUsd: 0.1, usageScope: 'session' }, previous);
    expect(share.usage).toEqual(u(10, 5));
  });
});
