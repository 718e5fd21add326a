import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTrustedWorkdir } from './trusted-roots.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'pb-roots-')));
const root = join(base, 'root');
const outside = join(base, 'outside');
mkdirSync(join(root, 'project', 'sub'), { recursive: true });
mkdirSync(outside, { recursive: true });
symlinkSync(outside, join(root, 'escape'));
symlinkSync(join(root, 'project'), join(root, 'alias'));
writeFileSync(join(root, 'file.txt'), 'x');
writeFileSync(join(outside, 'secret.txt'), 'x');
symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link'));
// A second root, a sibling whose name starts like the first, and a root reached via a link.
const second = join(base, 'second');
mkdirSync(join(second, 'only-here'), { recursive: true });
mkdirSync(join(base, 'root-evil'), { recursive: true });
symlinkSync(root, join(base, 'root-link'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

describe('resolveTrustedWorkdir', () => {
  it('accepts a directory inside a root and returns its real path', async () => {
    expect(await resolveTrustedWorkdir(join(root, 'project', 'sub'), [root])).toBe(
      join(root, 'project', 'sub'),
    );
    expect(await resolveTrustedWorkdir(join(root, 'alias'), [root])).toBe(join(root, 'project'));
  });

  it('accepts the root itself', async () => {
    expect(await resolveTrustedWorkdir(root, [root])).toBe(root);
  });

  it('resolves a relative path from the first root', async () => {
    expect(await resolveTrustedWorkdir('project', [root])).toBe(join(root, 'project'));
    expect(await resolveTrustedWorkdir('project/sub', [root, second])).toBe(
      join(root, 'project', 'sub'),
    );
    // Only from the first root: a name that exists only in the second is not found.
    expect(await code(resolveTrustedWorkdir('only-here', [root, second]))).toBe(
      'WORKDIR_NOT_FOUND',
    );
    expect(await code(resolveTrustedWorkdir('escape', [root]))).toBe('WORKDIR_NOT_TRUSTED');
  });

  it('accepts a directory inside any of several roots', async () => {
    expect(await resolveTrustedWorkdir(join(second, 'only-here'), [root, second])).toBe(
      join(second, 'only-here'),
    );
    expect(await code(resolveTrustedWorkdir(join(second, 'only-here'), [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
  });

  it('checks real paths: a root configured through a symlink works', async () => {
    const viaLink = join(base, 'root-link');
    expect(await resolveTrustedWorkdir(join(viaLink, 'project'), [viaLink])).toBe(
      join(root, 'project'),
    );
    expect(await resolveTrustedWorkdir(join(root, 'project'), [viaLink])).toBe(
      join(root, 'project'),
    );
    expect(await code(resolveTrustedWorkdir(join(viaLink, 'missing'), [viaLink]))).toBe(
      'WORKDIR_NOT_FOUND',
    );
  });

  it('does not take a sibling that shares the root as a name prefix for inside', async () => {
    expect(await code(resolveTrustedWorkdir(join(base, 'root-evil'), [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
  });

  it('creates a root that does not exist yet', async () => {
    const fresh = join(base, 'fresh-root');
    expect(existsSync(fresh)).toBe(false);
    expect(await resolveTrustedWorkdir(fresh, [fresh])).toBe(fresh);
    expect(existsSync(fresh)).toBe(true);
  });

  it('refuses `..` segments even when they would land inside', async () => {
    expect(await code(resolveTrustedWorkdir(`${root}/project/../project`, [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
    expect(await code(resolveTrustedWorkdir('../outside', [root]))).toBe('WORKDIR_NOT_TRUSTED');
    expect(await code(resolveTrustedWorkdir(`${root}/..`, [root]))).toBe('WORKDIR_NOT_TRUSTED');
    expect(await code(resolveTrustedWorkdir('project\\..\\..\\outside', [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
  });

  it('refuses a symlink that escapes the root', async () => {
    expect(await code(resolveTrustedWorkdir(join(root, 'escape'), [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
    // Through the link, even to a path below it.
    mkdirSync(join(outside, 'deeper'), { recursive: true });
    expect(await code(resolveTrustedWorkdir(join(root, 'escape', 'deeper'), [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
    // A link to a file outside is "not trusted", not "not a directory".
    expect(await code(resolveTrustedWorkdir(join(root, 'secret-link'), [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
  });

  it('refuses paths outside every root without saying whether they exist', async () => {
    expect(await code(resolveTrustedWorkdir(outside, [root]))).toBe('WORKDIR_NOT_TRUSTED');
    expect(await code(resolveTrustedWorkdir('/', [root]))).toBe('WORKDIR_NOT_TRUSTED');
    expect(await code(resolveTrustedWorkdir('/definitely/not/here', [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
  });

  it('reports a missing directory or a file inside a root as WORKDIR_NOT_FOUND', async () => {
    expect(await code(resolveTrustedWorkdir(join(root, 'missing'), [root]))).toBe(
      'WORKDIR_NOT_FOUND',
    );
    expect(await code(resolveTrustedWorkdir(join(root, 'file.txt'), [root]))).toBe(
      'WORKDIR_NOT_FOUND',
    );
  });

  it('refuses with a 403 for untrusted paths and a 400 for missing ones', async () => {
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (err: { status?: number }) => err.status,
      );
    expect(await status(resolveTrustedWorkdir(outside, [root]))).toBe(403);
    expect(await status(resolveTrustedWorkdir(join(root, 'missing'), [root]))).toBe(400);
  });

  it('refuses NUL bytes', async () => {
    expect(await code(resolveTrustedWorkdir(`${root}/a\0b`, [root]))).toBe('WORKDIR_NOT_TRUSTED');
  });
});
