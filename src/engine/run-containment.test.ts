import { describe, expect, it } from 'vitest';
import { resolveContainment } from './run-containment.js';

const config = (runContainment: 'auto' | 'pidns' | 'none', PATH: string) => ({
  sandbox: 'none' as const,
  sandboxBwrapBin: 'bwrap',
  runContainment,
  childEnvBase: { PATH },
});

describe('resolveContainment', () => {
  it('gives runs a PID namespace where unshare works (root here and in CI)', async () => {
    const resolved = await resolveContainment(config('auto', '/usr/bin:/bin'));
    expect(resolved.kind).toBe('pidns');
    expect(resolved.pidns?.prefix).toEqual(expect.arrayContaining(['--pid', '--kill-child']));
  });

  it('falls back to the process group under auto, and fails closed under pidns', async () => {
    expect(await resolveContainment(config('auto', '/nonexistent'))).toMatchObject({
      kind: 'none',
      detail: expect.stringContaining('`unshare` (util-linux) is not installed'),
    });
    await expect(resolveContainment(config('pidns', '/nonexistent'))).rejects.toMatchObject({
      code: 'RUN_CONTAINMENT_UNAVAILABLE',
    });
  });

  it('uses nothing but the process group when told so', async () => {
    expect(await resolveContainment(config('none', '/usr/bin:/bin'))).toMatchObject({
      kind: 'none',
    });
  });

  it('lets the bwrap sandbox contain runs, and refuses a bwrap that cannot sandbox', async () => {
    await expect(
      resolveContainment({
        ...config('none', '/usr/bin:/bin'),
        sandbox: 'bwrap',
        sandboxBwrapBin: '/nonexistent/bwrap',
      }),
    ).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
  });
});
