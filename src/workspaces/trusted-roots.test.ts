import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('resolves a relative path from the first root', async () => {
    expect(await resolveTrustedWorkdir('project', [root])).toBe(join(root, 'project'));
  });

  it('refuses `..` segments even when they would land inside', async () => {
    expect(await code(resolveTrustedWorkdir(`${root}/project/../project`, [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
    expect(await code(resolveTrustedWorkdir('../outside', [root]))).toBe('WORKDIR_NOT_TRUSTED');
  });

  it('refuses a symlink that escapes the root', async () => {
    expect(await code(resolveTrustedWorkdir(join(root, 'escape'), [root]))).toBe(
      'WORKDIR_NOT_TRUSTED',
    );
  });

  it('refuses paths outside every root without saying whether they exist', async () => {
    expect(await code(resolveTrustedWorkdir(outside, [root]))).toBe('WORKDIR_NOT_TRUSTED');
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

  it('refuses NUL bytes', async () => {
    expect(await code(resolveTrustedWorkdir(`${root}/a\0b`, [root]))).toBe('WORKDIR_NOT_TRUSTED');
  });
});
