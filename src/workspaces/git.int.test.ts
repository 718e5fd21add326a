import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commitAll,
  createWorktree,
  diffAgainstBase,
  git,
  parseNumstat,
  removeWorktree,
} from './git.js';

const env = { PATH: '/usr/bin:/bin', HOME: tmpdir() };
let base: string;
let repo: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'pb-git-'));
  repo = join(base, 'repo');
  mkdirSync(repo);
  await git(['init', '-q', '-b', 'main'], repo, { env });
  writeFileSync(join(repo, 'a.txt'), 'one\ntwo\n');
  writeFileSync(join(repo, 'gone.txt'), 'bye\n');
  await git(['add', '.'], repo, { env });
  await git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init'], repo, {
    env,
  });
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('git workspaces (real git)', () => {
  it('creates a worktree on a new branch and diffs every kind of change against its base', async () => {
    const wt = join(base, 'wt1');
    const { baseCommit } = await createWorktree(repo, wt, 'patchbay/run_1', 'main', { env });
    expect(baseCommit).toMatch(/^[0-9a-f]{40}$/);
    expect((await git(['branch', '--show-current'], wt, { env })).trim()).toBe('patchbay/run_1');

    writeFileSync(join(wt, 'a.txt'), 'one\nTWO\nthree\n'); // modified
    rmSync(join(wt, 'gone.txt')); // deleted
    writeFileSync(join(wt, 'new.txt'), 'fresh\n'); // untracked
    writeFileSync(join(wt, 'blob.bin'), Buffer.from([0, 1, 2, 255, 0])); // binary
    const { diff, files } = await diffAgainstBase(wt, baseCommit, { env });
    expect(diff).toContain('+TWO');
    expect(diff).toContain('new file mode');
    expect(diff).toContain('deleted file mode');
    expect(files).toEqual(
      expect.arrayContaining([
        { path: 'a.txt', added: 2, removed: 1, binary: false },
        { path: 'gone.txt', added: 0, removed: 1, binary: false },
        { path: 'new.txt', added: 1, removed: 0, binary: false },
        { path: 'blob.bin', added: 0, removed: 0, binary: true },
      ]),
    );
    // The worktree's own index was not touched: new.txt is still untracked.
    expect(await git(['status', '--porcelain'], wt, { env })).toContain('?? new.txt');

    const commit = await commitAll(wt, 'patchbay: run_1', { env });
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await commitAll(wt, 'again', { env })).toBeNull();
    // Committed changes are still part of the diff against the base.
    expect((await diffAgainstBase(wt, baseCommit, { env })).files).toHaveLength(4);
    await removeWorktree(repo, wt, 'patchbay/run_1', { env });
    expect(await git(['branch', '--list', 'patchbay/run_1'], repo, { env })).toBe('');
  });

  it('never runs the repository hooks', async () => {
    const marker = join(base, 'hook-ran');
    const hook = join(repo, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(hook, 0o755);
    const wt = join(base, 'wt2');
    await createWorktree(repo, wt, 'patchbay/run_2', 'main', { env });
    writeFileSync(join(wt, 'x.txt'), 'x');
    await commitAll(wt, 'x', { env });
    expect(() => readFileSync(marker)).toThrow();
  });

  it('refuses an unknown ref', async () => {
    await expect(
      createWorktree(repo, join(base, 'wt3'), 'b3', 'no-such-ref', { env }),
    ).rejects.toThrow(/rev-parse/);
  });

  it('parses numstat with tabs in names and binary markers', () => {
    expect(parseNumstat('1\t2\ta\tb.txt\0-\t-\timg.png\0')).toEqual([
      { path: 'a\tb.txt', added: 1, removed: 2, binary: false },
      { path: 'img.png', added: 0, removed: 0, binary: true },
    ]);
  });
});
