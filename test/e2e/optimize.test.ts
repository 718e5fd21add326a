import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, gitIn, ROOT, runCli, tempDir, type Json } from './helpers.js';

afterAll(cleanupAll);

const REPOS = join(import.meta.dirname, '..', 'fixtures', 'repos');

/** What the optimizer must find and prove in each fast fixture library, and never touch. */
const CASES = [
  {
    name: 'lib-math',
    planted: [
      ['memoize-pure-function', 'src/fib.js'],
      ['no-accumulating-spread', 'src/collections.js'],
      ['spread-push-in-loop', 'src/collections.js'],
    ],
  },
  {
    name: 'lib-text',
    planted: [
      ['prefer-set-has', 'src/keywords.js'],
      ['hoist-json-parse', 'src/options.js'],
    ],
  },
] as const;

/**
 * `patchbay optimize` on the fixture libraries, offline, no LLM: the planted inefficiencies
 * come back as proposals with measured speedups; the traps (src/traps.js) never do. Samples
 * are fewer than the default (8, and 150 ms benchmarks) to keep the test to a minute or two.
 */
describe('patchbay optimize on the fixture libraries', () => {
  const dataDir = tempDir('patchbay-optimize-');
  const env = {
    PATCHBAY_DATA_DIR: dataDir,
    // The fixtures' benchmark reads BENCH_MS; runs get only allow-listed variables.
    PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,HOME,LANG,BENCH_MS',
    BENCH_MS: '150',
  };

  for (const { name, planted } of CASES) {
    it(`${name}: proposes the planted fixes with proven speedups and none for the traps`, async () => {
      const result = await runCli(['optimize', join(REPOS, name), '--samples', '8', '--json'], {
        env,
        timeoutMs: 280_000,
      });
      expect(result.code, result.stderr).toBe(0);
      // --json keeps stdout to the JSON; the progress, one line per stage, goes to stderr.
      const { proposals, rejected } = JSON.parse(result.stdout) as {
        proposals: Json[];
        rejected: { reason: string }[];
      };
      // Every candidate not proposed is in the result with its reason.
      for (const r of rejected) expect(r.reason).not.toBe('');
      for (const stage of [
        'prepare',
        'detect',
        'baseline',
        'scan',
        'patch',
        'validate',
        'propose',
      ]) {
        expect(result.stderr).toMatch(new RegExp(`\\[[\\dms]+\\] ${stage}[ :]`));
      }
      const found = proposals.map((p) => [p.rule, p.file]);
      for (const fix of planted) expect(found).toContainEqual(fix);
      expect(proposals.filter((p) => p.file === 'src/traps.js')).toEqual([]);
      for (const p of proposals) {
        // The evidence a maintainer needs to re-run it.
        expect(p.speedup).toBeGreaterThanOrEqual(0.03);
        expect(p.metrics.length).toBeGreaterThan(0);
        // At least one benchmark proves it; the others only must not regress.
        const proving = (p.metrics as Json[]).filter(
          (m) => m.pValue < 0.05 && m.lowerBoundSpeedup >= m.threshold,
        );
        expect(proving.length, JSON.stringify(p.metrics)).toBeGreaterThan(0);
        for (const m of p.metrics) expect(m.baseSamples).toBeGreaterThanOrEqual(4);
        expect(p.diff).toMatch(/^diff --git a\//);
        expect(p.evidence).toMatchObject({ samples: 8, node: process.version });
      }
    }, 300_000);
  }

  it('--apply commits a proposal on a new branch, leaving the checkout alone; refuses a dirty one; twice is "already applied"', async () => {
    const proposalsFile = execFileSync('sh', [
      '-c',
      `ls ${dataDir}/optimizer/*/artifacts/proposals.json | head -1`,
    ])
      .toString()
      .trim();
    const [proposal] = JSON.parse(readFileSync(proposalsFile, 'utf8')) as Json[];
    expect(proposal, 'an earlier test made proposals').toBeDefined();
    const id = String(proposal.id);
    const name =
      proposal.file === 'src/fib.js' || proposal.file === 'src/collections.js'
        ? 'lib-math'
        : 'lib-text';

    // Without --repo the target is the directory the optimization read: here a fixture inside
    // Patchbay's own checkout, which is not the top of a repository, so nothing is touched.
    const ownBranch = gitIn(ROOT, 'rev-parse', '--abbrev-ref', 'HEAD').trim();
    const inside = await runCli(['optimize', '--apply', id], { env });
    expect(inside.code, inside.stderr).toBe(2);
    expect(inside.stderr).toContain('REPO_NOT_GIT');
    expect(inside.stderr).toContain('--repo');
    expect(inside.stderr).not.toMatch(/\n\s+at /);
    expect(gitIn(ROOT, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe(ownBranch);
    expect(gitIn(ROOT, 'branch', '--list', 'patchbay/optimize-*').trim()).toBe('');

    const repo = join(tempDir('patchbay-apply-'), name);
    cpSync(join(REPOS, name), repo, { recursive: true });
    const git = (...args: string[]): string => gitIn(repo, ...args);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
    const apply = (): ReturnType<typeof runCli> =>
      runCli(['optimize', '--apply', id, '--repo', repo], { env });

    // Uncommitted changes: refused, naming the files, and nothing made.
    writeFileSync(join(repo, 'NOTES.md'), 'local notes\n');
    git('add', 'NOTES.md');
    writeFileSync(join(repo, String(proposal.file)), '// half-done edit\n', { flag: 'a' });
    const dirty = await apply();
    expect(dirty.code, dirty.stderr).toBe(2);
    expect(dirty.stderr).toContain('OPTIMIZE_APPLY_DIRTY');
    expect(dirty.stderr).toContain('NOTES.md');
    expect(dirty.stderr).toContain(String(proposal.file));
    expect(dirty.stderr).not.toMatch(/\n\s+at /);
    expect(git('branch', '--list', 'patchbay/*').trim()).toBe('');
    git('reset', '-q', '--hard');
    rmSync(join(repo, 'NOTES.md'), { force: true });

    const applied = await apply();
    expect(applied.code, applied.stderr).toBe(0);
    const branch = `patchbay/${id.replace(/^prop_/, 'optimize-')}`;
    expect(applied.stdout).toContain(branch);
    expect(applied.stdout).toContain('still on main');
    // The checkout is where it was: same branch, same (clean) files.
    expect(git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    expect(git('status', '--porcelain').trim()).toBe('');
    expect(git('log', '-1', '--format=%s', branch)).toMatch(/^perf: /);
    expect(git('diff', '--name-only', 'main', branch).trim()).toBe(proposal.file);
    expect(git('worktree', 'list').trim().split('\n')).toHaveLength(1);

    const again = await apply();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already applied');
    expect(again.stdout).toContain(branch);

    git('switch', '-q', branch);
    execFileSync(process.execPath, ['--test', 'test/'], { cwd: repo });
  });

  it('without a benchmark proposes nothing, unless safe refactors are asked for (confidence low)', async () => {
    const repo = join(tempDir('patchbay-nobench-'), 'lib-math');
    cpSync(join(REPOS, 'lib-math'), repo, { recursive: true });
    const pkgFile = join(repo, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Json;
    delete pkg.scripts.bench;
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    rmSync(join(repo, 'bench'), { recursive: true });
    const flags = ['--max-candidates', '2'];
    const none = await runCli(['optimize', repo, ...flags], { env, timeoutMs: 120_000 });
    expect(none.code, none.stderr).toBe(0);
    // The summary says what happened: nothing was benchmarked, so no word of noise.
    expect(none.stdout).toMatch(/no proposal: .*safe refactor\(s\) not asked for/);
    expect(none.stdout).not.toContain('beyond the noise');
    expect(none.stdout).toMatch(/why:\n {2}\S+ src\/\S+:\d+: safe-refactor: /);
    const opted = await runCli(['optimize', repo, ...flags, '--json', '--include-safe-refactors'], {
      env,
      timeoutMs: 120_000,
    });
    expect(opted.code, opted.stderr).toBe(0);
    const { proposals } = JSON.parse(opted.stdout) as { proposals: Json[] };
    expect(proposals.length).toBeGreaterThan(0);
    for (const p of proposals) {
      expect(p).toMatchObject({ confidence: 'low', speedup: 0, metrics: [] });
      expect(p.summary).toContain('safe refactor, low confidence');
    }
  }, 150_000);

  it('refuses an unknown proposal, bad flags and an unclonable URL with stable codes', async () => {
    const unknown = await runCli(['optimize', '--apply', 'prop_nope'], { env });
    expect(unknown.code).toBe(66);
    expect(unknown.stderr).toContain('PROPOSAL_NOT_FOUND');
    const clone = await runCli(['optimize', 'file:///nonexistent/patchbay-nope.git'], { env });
    expect(clone.code, clone.stderr).toBe(69);
    expect(clone.stderr).toContain('REPO_CLONE_FAILED');
    expect(clone.stderr).toContain('patchbay-nope.git');
    expect(clone.stderr).not.toMatch(/\n\s+at /);
    const bad = await runCli(['optimize', join(REPOS, 'lib-math'), '--samples', 'many'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--samples');
  });
});
