import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restoreWorktree, snapshotWorktree } from './worktree-snapshot.js';

const dirs: string[] = [];
const env = { PATH: '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' };
const gitIn = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], {
    cwd,
    env,
    encoding: 'utf8',
  }).trim();

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('snapshotWorktree / restoreWorktree', () => {
  it('undoes what came after the snapshot for files git sees, keeping ignored ones and the index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-snap-'));
    dirs.push(dir);
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    writeFileSync(join(dir, 'gone.txt'), 'gone\n');
    gitIn(dir, 'init', '-q', '-b', 'main');
    gitIn(dir, 'add', '.');
    gitIn(dir, 'commit', '-q', '-m', 'init');
    // The agent's work: an edit and a new file, uncommitted.
    writeFileSync(join(dir, 'a.txt'), 'a by agent\n');
    writeFileSync(join(dir, 'new.txt'), 'agent\n');
    const options = { env };
    const tree = await snapshotWorktree(dir, options);
    // The snapshot stages nothing in the worktree's own index.
    expect(gitIn(dir, 'diff', '--cached', '--name-only')).toBe('');
    // What the gates did.
    writeFileSync(join(dir, 'a.txt'), 'a by build\n');
    writeFileSync(join(dir, 'new.txt'), 'changed by build\n');
    rmSync(join(dir, 'gone.txt'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'bundle.js'), 'x\n');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'dep.js'), 'dep\n');

    const undone = await restoreWorktree(dir, tree, options);
    expect(undone.sort()).toEqual(['a.txt', 'gone.txt', 'new.txt', 'out/bundle.js']);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('a by agent\n');
    expect(readFileSync(join(dir, 'new.txt'), 'utf8')).toBe('agent\n');
    expect(readFileSync(join(dir, 'gone.txt'), 'utf8')).toBe('gone\n');
    expect(existsSync(join(dir, 'out', 'bundle.js'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'dep.js'))).toBe(true);
    // The worktree's own index is as it was: nothing staged.
    expect(gitIn(dir, 'diff', '--cached', '--name-only')).toBe('');
    expect(await restoreWorktree(dir, tree, options)).toEqual([]);
  });
});
