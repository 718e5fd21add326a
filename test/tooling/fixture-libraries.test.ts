import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The optimizer's fast fixture libraries must be real: their own tests pass as written, and
 * their benchmark prints one benchmark.js-style line per benchmark (what the optimizer parses).
 */
describe.each(['lib-text', 'lib-math'])('fixture library %s', (name) => {
  const dir = join(ROOT, 'test', 'fixtures', 'repos', name);

  it('passes its own tests', () => {
    const r = spawnSync(process.execPath, ['--test', 'test/'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/# fail 0/);
  });

  it('prints a benchmark.js line per benchmark', () => {
    const r = spawnSync(process.execPath, ['bench/run.js'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, BENCH_MS: '50' },
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      expect(line).toMatch(/^\w+ x [\d,]+ ops\/sec ±\d+\.\d+% \(\d+ runs sampled\)$/);
    }
  });
});
