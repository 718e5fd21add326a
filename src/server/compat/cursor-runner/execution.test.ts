import { describe, expect, it } from 'vitest';
import type { CursorRunnerRequestRecord, RunRecord } from '../../../store/index.js';
import { continues, splitCallback } from './execution.js';
import { CompatFailure } from './wire.js';

describe('splitCallback', () => {
  it("takes the URL's ?secret= out of the URL and sends it in headers instead", () => {
    expect(splitCallback('http://app:3000/cb?secret=s1&a=b', 'configured')).toEqual({
      url: 'http://app:3000/cb?a=b',
      secret: 's1',
    });
  });

  it('falls back to the configured secret, or none', () => {
    expect(splitCallback('https://x.example/cb', 'configured').secret).toBe('configured');
    expect(splitCallback('https://x.example/cb', undefined).secret).toBeUndefined();
  });

  it("refuses what is not a URL with cursor-runner's 400", () => {
    expect(() => splitCallback('not a url', undefined)).toThrow(CompatFailure);
  });
});

describe('continues', () => {
  const request = (iterations: number, maxIterations: number | null) =>
    ({ iterations, params: { maxIterations } }) as unknown as CursorRunnerRequestRecord;
  const turn = (status: string, errorCode: string | null = null) =>
    ({ status, errorCode }) as unknown as RunRecord;

  it('goes on after a failed turn while turns remain', () => {
    expect(continues(request(1, 3), turn('failed', 'AGENT_PROVIDER_ERROR'))).toBe(true);
    expect(continues(request(3, 3), turn('failed'))).toBe(false);
  });

  it('stops at a success, for execute, and after failures another turn cannot mend', () => {
    expect(continues(request(1, 3), turn('succeeded'))).toBe(false);
    expect(continues(request(1, null), turn('failed'))).toBe(false);
    expect(continues(request(1, 3), turn('failed', 'AGENT_AUTH_FAILED'))).toBe(false);
    expect(continues(request(1, 3), turn('timed_out'))).toBe(false);
  });
});
