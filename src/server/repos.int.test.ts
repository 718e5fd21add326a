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

describe('runs on a repository', () => {
  it('work in their own worktree and branch, and report the diff, the files and the commit', async () => {
    const repo = (await post({ path: join(root, 'app'), name: 'work' })).json();
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: {
        agent: 'shell',
        repo: repo.id,
        command: ['sh', '-c', 'pwd; echo more >> README.md; echo new > added.txt; rm src/index.ts'],
        wait: true,
      },
    });
    expect(res.statusCode).toBe(200);
    const run = res.json();
    expect(run).toMatchObject({
      status: 'succeeded',
      repoId: repo.id,
      branch: `patchbay/${run.id}`,
    });
    expect(run.baseCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(run.headCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(run.workdir).toBe(join(dir, 'worktrees', run.id));

    const diff = await server.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/diff` });
    expect(diff.headers['content-type']).toMatch(/^text\/x-diff/);
    expect(diff.body).toContain('+more');
    expect(diff.body).toContain('added.txt');
    const files = (
      await server.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/files` })
    ).json().files;
    expect(files).toEqual(
      expect.arrayContaining([
        { path: 'README.md', added: 1, removed: 0, binary: false },
        { path: 'added.txt', added: 1, removed: 0, binary: false },
        { path: 'src/index.ts', added: 0, removed: 1, binary: false },
      ]),
    );
    // The commit is on the run branch; the repository's own checkout is untouched.
    const log = await git(['log', '-1', '--format=%s', run.branch], join(root, 'app'), { env });
    expect(log.trim()).toBe(`patchbay: changes of run ${run.id}`);
    expect(existsSync(join(root, 'app', 'added.txt'))).toBe(false);
  });

  it('without autoCommit leaves the changes uncommitted', async () => {
    const repo = (await post({ path: join(root, 'app'), name: 'nocommit' })).json();
    const run = (
      await server.app.inject({
        method: 'POST',
        url: '/v1/runs',
        payload: {
          agent: 'shell',
          repo: repo.id,
          autoCommit: false,
          command: ['sh', '-c', 'echo x > y.txt'],
          wait: true,
        },
      })
    ).json();
    expect(run).toMatchObject({ status: 'succeeded', headCommit: null });
    expect(
      (await server.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/files` })).json().files,
    ).toEqual([{ path: 'y.txt', added: 1, removed: 0, binary: false }]);
  });

  it('refuses an unknown repo or ref, and repo together with workdir', async () => {
    const repo = (await post({ path: join(root, 'app'), name: 'refs' })).json();
    const create = (payload: object) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/runs',
        payload: { agent: 'shell', command: ['true'], ...payload },
      });
    expect((await create({ repo: 'repo_missing' })).json().error.code).toBe('REPO_NOT_FOUND');
    expect((await create({ repo: repo.id, ref: 'no-such-branch' })).json().error.code).toBe(
      'REPO_REF_NOT_FOUND',
    );
    expect((await create({ repo: repo.id, workdir: 'app' })).json().error.code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('a run without a repository has no diff', async () => {
    const run = (
      await server.app.inject({
        method: 'POST',
        url: '/v1/runs',
        payload: { agent: 'shell', command: ['true'], wait: true },
      })
    ).json();
    const res = await server.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/diff` });
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'RUN_DIFF_NOT_AVAILABLE']);
  });
});

describe('follow-up runs (workspaceOf)', () => {
  it('wait for the run before them, share its worktree and branch, and diff from where it left off', async () => {
    const repo = (await post({ path: join(root, 'app'), name: 'follow' })).json();
    const create = (payload: object) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/runs',
        payload: { agent: 'shell', ...payload },
      });
    const first = (
      await create({ repo: repo.id, command: ['sh', '-c', 'sleep 0.4; echo first > first.txt'] })
    ).json();
    // Wait until the first run has its workspace.
    for (let i = 0; i < 100; i++) {
      const r = (await server.app.inject({ method: 'GET', url: `/v1/runs/${first.id}` })).json();
      if (r.workdir) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const second = (
      await create({
        workspaceOf: first.id,
        command: ['sh', '-c', 'cat first.txt; echo second > second.txt'],
        wait: true,
      })
    ).json();
    const firstDone = (
      await server.app.inject({ method: 'GET', url: `/v1/runs/${first.id}` })
    ).json();
    expect(firstDone.status).toBe('succeeded');
    expect(second).toMatchObject({
      status: 'succeeded',
      workdir: firstDone.workdir,
      branch: firstDone.branch,
      workspaceOf: first.id,
      baseCommit: firstDone.headCommit, // it started where the first one committed
    });
    // It started only after the first ended, and saw its file.
    expect(Date.parse(second.startedAt)).toBeGreaterThanOrEqual(Date.parse(firstDone.finishedAt));
    const events = (
      await server.app.inject({ method: 'GET', url: `/v1/runs/${second.id}/events` })
    ).json().events;
    expect(events.map((e: { data: { text?: string } }) => e.data.text ?? '').join('')).toContain(
      'first\n',
    );
    const files = (
      await server.app.inject({ method: 'GET', url: `/v1/runs/${second.id}/files` })
    ).json().files;
    expect(files).toEqual([{ path: 'second.txt', added: 1, removed: 0, binary: false }]);
  });

  it('refuses workspaceOf with a workdir or repo, and of an unknown run', async () => {
    const create = (payload: object) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/runs',
        payload: { agent: 'shell', command: ['true'], ...payload },
      });
    expect((await create({ workspaceOf: 'run_nope' })).json().error.code).toBe('RUN_NOT_FOUND');
    const done = (await create({ wait: true })).json();
    expect((await create({ workspaceOf: done.id, workdir: 'app' })).json().error.code).toBe(
      'VALIDATION_FAILED',
    );
  });
});
