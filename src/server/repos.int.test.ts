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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { createSilentLogger } from '../observability/index.js';
import { git } from '../workspaces/index.js';
import { startServer, type RunningServer } from './serve.js';

const env = { PATH: '/usr/bin:/bin', HOME: tmpdir() };
let dir: string;
let root: string;
let server: RunningServer;

async function makeRepo(path: string): Promise<void> {
  mkdirSync(join(path, 'src', 'lib'), { recursive: true });
  writeFileSync(join(path, 'README.md'), '# hi\n');
  writeFileSync(join(path, 'src', 'index.ts'), 'export {};\n');
  writeFileSync(join(path, 'src', 'lib', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(path, '.gitignore'), 'dist/\n*.log\n');
  await git(['init', '-q', '-b', 'trunk'], path, { env });
  await git(['add', '.'], path, { env });
  await git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init'], path, {
    env,
  });
  mkdirSync(join(path, 'dist'));
  writeFileSync(join(path, 'dist', 'out.js'), '');
  writeFileSync(join(path, 'debug.log'), '');
  writeFileSync(join(path, 'notes.txt'), 'untracked but not ignored\n');
}

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'pb-repos-')));
  root = join(dir, 'workspaces');
  mkdirSync(join(root, 'app'), { recursive: true });
  await makeRepo(join(root, 'app'));
  mkdirSync(join(root, 'plain'));
  mkdirSync(join(dir, 'outside'));
  await makeRepo(join(dir, 'outside'));
  symlinkSync(join(dir, 'outside'), join(root, 'sneaky'));
  const config = loadConfig({ env: { PATCHBAY_DATA_DIR: dir, ...env }, cwd: dir });
  server = await startServer({ config, log: createSilentLogger(), version: 't', listen: false });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (payload: unknown) =>
  server.app.inject({ method: 'POST', url: '/v1/repos', payload: payload as object });

describe('/v1/repos', () => {
  it('registers a local repository in place, with its HEAD branch', async () => {
    const res = await post({ path: join(root, 'app') });
    expect(res.statusCode).toBe(201);
    const repo = res.json();
    expect(repo).toMatchObject({
      name: 'app',
      path: join(root, 'app'),
      defaultBranch: 'trunk',
      managed: false,
      url: null,
    });
    const list = (await server.app.inject({ method: 'GET', url: '/v1/repos' })).json();
    expect(list.repos.map((r: { id: string }) => r.id)).toContain(repo.id);
    expect(
      (await server.app.inject({ method: 'GET', url: `/v1/repos/${repo.id}` })).json().id,
    ).toBe(repo.id);
  });

  it('lists a directory: directories first, .gitignore honoured, untracked files shown', async () => {
    const repo = (await post({ path: join(root, 'app'), name: 'app2' })).json();
    const top = (
      await server.app.inject({ method: 'GET', url: `/v1/repos/${repo.id}/files` })
    ).json();
    expect(top.entries).toEqual([
      { path: 'src', name: 'src', type: 'dir' },
      { path: '.gitignore', name: '.gitignore', type: 'file' },
      { path: 'README.md', name: 'README.md', type: 'file' },
      { path: 'notes.txt', name: 'notes.txt', type: 'file' },
    ]);
    const src = (
      await server.app.inject({ method: 'GET', url: `/v1/repos/${repo.id}/files?path=src` })
    ).json();
    expect(src.entries).toEqual([
      { path: 'src/lib', name: 'lib', type: 'dir' },
      { path: 'src/index.ts', name: 'index.ts', type: 'file' },
    ]);
    for (const bad of ['../outside', 'src/../../x', '/etc', 'a%00b']) {
      const res = await server.app.inject({
        method: 'GET',
        url: `/v1/repos/${repo.id}/files?path=${bad}`,
      });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('REPO_PATH_INVALID');
    }
  });

  it('refuses paths outside the trusted roots, symlink escapes and non-repositories', async () => {
    const outside = await post({ path: join(dir, 'outside') });
    expect([outside.statusCode, outside.json().error.code]).toEqual([403, 'WORKDIR_NOT_TRUSTED']);
    const sneaky = await post({ path: join(root, 'sneaky') });
    expect([sneaky.statusCode, sneaky.json().error.code]).toEqual([403, 'WORKDIR_NOT_TRUSTED']);
    const plain = await post({ path: join(root, 'plain') });
    expect([plain.statusCode, plain.json().error.code]).toEqual([400, 'REPO_NOT_GIT']);
    const sub = await post({ path: join(root, 'app', 'src') });
    expect(sub.json().error.code).toBe('REPO_NOT_GIT');
  });

  it('refuses non-https and private repository URLs before cloning anything', async () => {
    for (const url of [
      'http://example.com/r.git',
      'file:///tmp/r',
      'https://127.0.0.1/r.git',
      'https://localhost/r.git',
      'https://[::1]/r.git',
    ]) {
      const res = await post({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('REPO_URL_FORBIDDEN');
    }
    expect(existsSync(join(dir, 'repos'))).toBe(false);
  });

  it('needs exactly one of url or path', async () => {
    expect((await post({})).json().error.code).toBe('VALIDATION_FAILED');
    expect((await post({ url: 'https://x.example/r', path: '/tmp' })).json().error.code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('forgets a registered path without touching it', async () => {
    const repo = (await post({ path: join(root, 'app'), name: 'gone' })).json();
    const res = await server.app.inject({ method: 'DELETE', url: `/v1/repos/${repo.id}` });
    expect(res.statusCode).toBe(200);
    expect(existsSync(join(root, 'app', 'README.md'))).toBe(true);
    const again = await server.app.inject({ method: 'GET', url: `/v1/repos/${repo.id}` });
    expect([again.statusCode, again.json().error.code]).toEqual([404, 'REPO_NOT_FOUND']);
  });
});
