/**
 * Registering a repository by https URL clones it, for real: a bare repository served by
 * `git http-backend` over TLS on loopback (self-signed certificate), a `patchbay serve` that
 * trusts that certificate through GIT_SSL_CAINFO on its child environment allowlist, and
 * one that does not (the clone must fail, not silently accept an untrusted certificate).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeSelfSignedCert,
  startGitHttpsServer,
  type GitHttpsServer,
} from '../fixtures/git-https/server.js';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  type Json,
  type ServerHandle,
} from './helpers.js';

/** The documented default of PATCHBAY_CHILD_ENV_ALLOWLIST (src/config/schema.ts). */
const DEFAULT_ALLOWLIST = 'PATH,HOME,LANG,LC_ALL,LC_CTYPE,TERM,TZ,USER,LOGNAME,SHELL,TMPDIR';

const README_V1 = '# cloned over https\n\nfirst version\n';
const README_V2 = '# cloned over https\n\nsecond version, fetched later\n';

let gitServer: GitHttpsServer;
let bare: string;
/** A working clone of the bare repository, pushing to it through the file system. */
let upstream: string;
let repoUrl: string;

beforeAll(async () => {
  const root = tempDir('patchbay-e2e-git-https-');
  const projectRoot = join(root, 'srv');
  bare = join(projectRoot, 'repo.git');
  mkdirSync(bare, { recursive: true });
  gitIn(bare, 'init', '-q', '--bare', '-b', 'main');

  upstream = join(root, 'upstream');
  mkdirSync(join(upstream, 'src'), { recursive: true });
  gitIn(upstream, 'init', '-q', '-b', 'main');
  writeFileSync(join(upstream, 'README.md'), '# cloned over https\n');
  gitIn(upstream, 'add', '.');
  gitIn(upstream, 'commit', '-q', '-m', 'initial');
  writeFileSync(join(upstream, 'README.md'), README_V1);
  writeFileSync(join(upstream, 'src', 'app.ts'), 'export const version = 1;\n');
  gitIn(upstream, 'add', '.');
  gitIn(upstream, 'commit', '-q', '-m', 'second');
  gitIn(upstream, 'remote', 'add', 'origin', bare);
  gitIn(upstream, 'push', '-q', 'origin', 'main');

  const tls = join(root, 'tls');
  mkdirSync(tls);
  const { certPath, keyPath } = makeSelfSignedCert(tls);
  gitServer = await startGitHttpsServer({ projectRoot, certPath, keyPath });
  repoUrl = `${gitServer.url}/repo.git`;
});

afterAll(async () => {
  await cleanupAll();
  await gitServer?.close();
});

/** Env of a server allowed to clone from loopback, with its own empty HOME (no ~/.gitconfig). */
function serverEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATCHBAY_ALLOW_PRIVATE_REPO_URLS: '1',
    HOME: tempDir('patchbay-e2e-home-'),
    ...extra,
  };
}

function reposDirEntries(dataDir: string): string[] {
  const dir = join(dataDir, 'repos');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('a repository registered by https URL, with the CA on the child env allowlist', () => {
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    server = await startServer({
      env: serverEnv({
        GIT_SSL_CAINFO: gitServer.certPath,
        PATCHBAY_CHILD_ENV_ALLOWLIST: `${DEFAULT_ALLOWLIST},GIT_SSL_CAINFO`,
      }),
    });
  });

  it('clones it into the data dir over smart HTTP', async () => {
    const before = gitServer.requests.length;
    const res = await server.api.request('POST', '/v1/repos', { url: repoUrl });
    expect(res.status, res.text).toBe(201);
    repo = res.body;
    expect(repo).toMatchObject({
      id: expect.any(String),
      name: 'repo',
      url: repoUrl,
      path: join(server.dataDir, 'repos', repo.id as string),
      defaultBranch: 'main',
      managed: true,
    });
    expect(existsSync(join(repo.path as string, '.git'))).toBe(true);
    expect(gitIn(repo.path as string, 'rev-parse', 'HEAD')).toBe(gitIn(bare, 'rev-parse', 'main'));
    expect(gitIn(repo.path as string, 'remote', 'get-url', 'origin')).toBe(repoUrl);
    // It really went through the https server, not some shortcut.
    expect(gitServer.requests.slice(before)).toEqual(
      expect.arrayContaining([
        'GET /repo.git/info/refs?service=git-upload-pack',
        'POST /repo.git/git-upload-pack',
      ]),
    );

    const listed = await server.api.request('GET', '/v1/repos');
    expect(listed.body.repos.map((r: Json) => r.id)).toEqual([repo.id]);
  });

  it('lists the committed files', async () => {
    const root = await server.api.request('GET', `/v1/repos/${repo.id}/files`);
    expect(root.status, root.text).toBe(200);
    expect(root.body).toEqual({
      path: '',
      entries: [
        { path: 'src', name: 'src', type: 'dir' },
        { path: 'README.md', name: 'README.md', type: 'file' },
      ],
    });
    const src = await server.api.request('GET', `/v1/repos/${repo.id}/files?path=src`);
    expect(src.body.entries).toEqual([{ path: 'src/app.ts', name: 'app.ts', type: 'file' }]);
  });

  it('runs a command in a worktree of the clone', async () => {
    const run = await server.api.createRun({
      agent: 'shell',
      command: ['cat', 'README.md', 'src/app.ts'],
      repo: repo.id,
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.exitCode).toBe(0);
    expect(run.baseCommit).toBe(gitIn(bare, 'rev-parse', 'main'));
    expect(run.branch).toBe(`patchbay/${run.id}`);
    expect(run.workdir).toBe(join(realpathSync(server.dataDir), 'worktrees', run.id));
    const output = await server.api.output(run.id);
    expect(output).toContain(README_V1);
    expect(output).toContain('export const version = 1;');
  });

  it('fetches new commits; runs (default branch or origin/main) and the file tree see them', async () => {
    writeFileSync(join(upstream, 'README.md'), README_V2);
    gitIn(upstream, 'commit', '-q', '-am', 'third');
    gitIn(upstream, 'push', '-q', 'origin', 'main');
    const newHead = gitIn(bare, 'rev-parse', 'main');

    const before = gitServer.requests.length;
    const res = await server.api.request('POST', `/v1/repos/${repo.id}/fetch`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.id).toBe(repo.id);
    expect(gitServer.requests.slice(before)).toContain('POST /repo.git/git-upload-pack');
    expect(gitIn(repo.path as string, 'rev-parse', 'origin/main')).toBe(newHead);

    const run = await server.api.createRun({
      agent: 'shell',
      command: ['cat', 'README.md'],
      repo: repo.id,
      ref: 'origin/main',
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.baseCommit).toBe(newHead);
    const output = await server.api.output(run.id);
    expect(output).toContain(README_V2);
    expect(output).not.toContain('first version');

    // Without a ref, a run starts from the default branch, which the fetch moved too.
    const plain = await server.api.createRun({
      agent: 'shell',
      command: ['cat', 'README.md'],
      repo: repo.id,
      wait: true,
    });
    expect(plain.baseCommit).toBe(newHead);
    expect(await server.api.output(plain.id)).toContain(README_V2);
    expect(readFileSync(join(repo.path as string, 'README.md'), 'utf8')).toBe(README_V2);
  });

  it('deleting the repository removes the clone', async () => {
    const res = await server.api.request('DELETE', `/v1/repos/${repo.id}`);
    expect(res.status, res.text).toBe(200);
    expect(existsSync(repo.path as string)).toBe(false);
    expect((await server.api.request('GET', `/v1/repos/${repo.id}`)).status).toBe(404);
  });
});

describe('a repository registered by https URL, with an untrusted certificate', () => {
  it('fails with REPO_CLONE_FAILED and leaves nothing behind', async () => {
    // GIT_SSL_CAINFO is in the server's environment but not on the allowlist: git never sees it.
    const server = await startServer({
      env: serverEnv({ GIT_SSL_CAINFO: gitServer.certPath }),
    });
    const before = gitServer.requests.length;
    const res = await server.api.request('POST', '/v1/repos', { url: repoUrl });
    expect(res.status, res.text).toBe(502);
    expect(res.body.error.code).toBe('REPO_CLONE_FAILED');
    expect(res.body.error.message).toMatch(/certificate/i);
    // The TLS handshake failed: no request ever reached git http-backend.
    expect(gitServer.requests.slice(before)).toEqual([]);
    expect(reposDirEntries(server.dataDir)).toEqual([]);
    expect((await server.api.request('GET', '/v1/repos')).body.repos).toEqual([]);
  });
});
