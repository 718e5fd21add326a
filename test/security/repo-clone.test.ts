/**
 * Cloning and fetching cannot be steered at the host's network. The URL check covers the URL
 * given; git must not then follow a redirect elsewhere (an internal http service, say), and
 * must connect to the addresses the check approved rather than resolve the name again.
 * Everything listens on loopback: the https git server of test/fixtures/git-https, a second
 * one that only redirects, and a plain http listener standing for an internal service.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneRepo, git, type CheckedRepoUrl } from '../../src/workspaces/index.js';
import {
  makeSelfSignedCert,
  startGitHttpsServer,
  type GitHttpsServer,
} from '../fixtures/git-https/server.js';
import { cleanupAll, gitIn, startServer, tempDir, type ServerHandle } from '../e2e/helpers.js';
import { REFUSED_RANGES } from '../helpers/address-ranges.js';

const DEFAULT_ALLOWLIST = 'PATH,HOME,LANG,LC_ALL,LC_CTYPE,TERM,TZ,USER,LOGNAME,SHELL,TMPDIR';

let gitServer: GitHttpsServer;
let redirector: GitHttpsServer;
let internal: { url: string; connections: () => number; close(): Promise<void> };
let repoUrl: string;
let certPath: string;

beforeAll(async () => {
  const root = tempDir('patchbay-sec-git-');
  const projectRoot = join(root, 'srv');
  const bare = join(projectRoot, 'repo.git');
  mkdirSync(bare, { recursive: true });
  gitIn(bare, 'init', '-q', '--bare', '-b', 'main');
  const upstream = join(root, 'upstream');
  mkdirSync(upstream);
  gitIn(upstream, 'init', '-q', '-b', 'main');
  writeFileSync(join(upstream, 'README.md'), 'served over https\n');
  gitIn(upstream, 'add', '.');
  gitIn(upstream, 'commit', '-q', '-m', 'initial');
  gitIn(upstream, 'push', '-q', bare, 'main');

  const tls = join(root, 'tls');
  mkdirSync(tls);
  const cert = makeSelfSignedCert(tls);
  certPath = cert.certPath;
  gitServer = await startGitHttpsServer({ projectRoot, ...cert });
  redirector = await startGitHttpsServer({ projectRoot: join(root, 'empty'), ...cert });
  repoUrl = `${gitServer.url}/repo.git`;

  let connections = 0;
  const server: Server = createServer((req, res) => res.writeHead(404).end());
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  internal = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
});

afterAll(async () => {
  await cleanupAll();
  await Promise.all([gitServer?.close(), redirector?.close(), internal?.close()]);
});

/** git as the server runs it, trusting the fixture's certificate, with no flags of ours. */
const plainClone = (url: string, dest: string) =>
  git(['clone', '-q', '--', url, dest], '/', {
    env: { GIT_SSL_CAINFO: certPath, HOME: tempDir('patchbay-sec-home-') },
  });

describe('redirects', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    // Loopback is allowed here: the redirect, not the address check, must stop these.
    server = await startServer({
      env: {
        PATCHBAY_ALLOW_PRIVATE_REPO_URLS: '1',
        HOME: tempDir('patchbay-sec-home-'),
        GIT_SSL_CAINFO: certPath,
        PATCHBAY_CHILD_ENV_ALLOWLIST: `${DEFAULT_ALLOWLIST},GIT_SSL_CAINFO`,
      },
    });
  });

  it('git on its own follows an initial redirect, to https and to plain http (the control)', async () => {
    redirector.redirect((path) => `${gitServer.url}${path.replace(/^\/moved\.git/, '/repo.git')}`);
    const before = gitServer.requests.length;
    await plainClone(`${redirector.url}/moved.git`, join(tempDir('patchbay-sec-'), 'c'));
    expect(gitServer.requests.length).toBeGreaterThan(before);

    redirector.redirect((path) => `${internal.url}${path}`);
    const err = await plainClone(`${redirector.url}/moved.git`, join(tempDir(), 'c')).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error); // the stand-in answers 404, but it was reached
    expect(internal.connections()).toBeGreaterThan(0);
  });

  it('a clone whose server redirects is refused, and the target hears nothing', async () => {
    const cases = [
      (path: string) => `${gitServer.url}${path.replace(/^\/moved\.git/, '/repo.git')}`,
      (path: string) => `${internal.url}${path}`,
    ];
    for (const to of cases) {
      redirector.redirect(to);
      const before = { git: gitServer.requests.length, internal: internal.connections() };
      const res = await server.api.request('POST', '/v1/repos', {
        url: `${redirector.url}/moved.git`,
      });
      expect(res.status, res.text).toBe(502);
      expect(res.body.error.code).toBe('REPO_CLONE_FAILED');
      expect(res.body.error.message).toMatch(/redirects are not followed/);
      expect(gitServer.requests.length).toBe(before.git);
      expect(internal.connections()).toBe(before.internal);
    }
    const reposDir = join(server.dataDir, 'repos');
    expect(existsSync(reposDir) ? readdirSync(reposDir) : []).toEqual([]);
  });

  it('a fetch whose server now redirects is refused too', async () => {
    gitServer.redirect(null);
    const created = await server.api.request('POST', '/v1/repos', { url: repoUrl });
    expect(created.status, created.text).toBe(201);
    gitServer.redirect((path) => `${internal.url}${path}`);
    try {
      const before = internal.connections();
      const res = await server.api.request('POST', `/v1/repos/${created.body.id}/fetch`);
      expect(res.status, res.text).toBe(502);
      expect(res.body.error.code).toBe('REPO_FETCH_FAILED');
      expect(res.body.error.message).toMatch(/redirects are not followed/);
      expect(internal.connections()).toBe(before);
    } finally {
      gitServer.redirect(null);
    }
  });
});

describe('the checked addresses', () => {
  it('are the ones git connects to: a name is not resolved again', async () => {
    gitServer.redirect(null);
    const url = new URL(repoUrl); // https://localhost:<port>/repo.git
    const target = (addresses: string[]): CheckedRepoUrl => ({
      url,
      pin: { host: url.hostname, port: Number(url.port), addresses },
    });
    const env = {
      GIT_SSL_CAINFO: certPath,
      HOME: tempDir('patchbay-sec-home-'),
    };
    // localhost resolves to 127.0.0.1, where the server is; pinned elsewhere, git goes there.
    const before = gitServer.requests.length;
    const wrong = await cloneRepo(target(['127.0.0.2']), join(tempDir(), 'c'), { env }).catch(
      (e: { code?: string }) => e.code,
    );
    expect(wrong).toBe('REPO_CLONE_FAILED');
    expect(gitServer.requests.length).toBe(before);

    const dest = join(tempDir(), 'c');
    await cloneRepo(target(['127.0.0.1']), dest, { env });
    expect(existsSync(join(dest, 'README.md'))).toBe(true);
  });
});

describe('a server with the default settings', () => {
  it('refuses a repository URL in every refused range', async () => {
    const server = await startServer();
    for (const { cidr, samples } of REFUSED_RANGES) {
      const sample = samples.find((a) => !a.includes('%'))!;
      const url = `https://${sample.includes(':') ? `[${sample}]` : sample}/r.git`;
      const res = await server.api.request('POST', '/v1/repos', { url });
      expect(res.status, `${cidr}: ${url}`).toBe(400);
      expect(res.body.error.code, url).toBe('REPO_URL_FORBIDDEN');
    }
    // A name that resolves to loopback, with a real git server behind it.
    const before = gitServer.requests.length;
    const res = await server.api.request('POST', '/v1/repos', { url: repoUrl });
    expect(res.body.error?.code).toBe('REPO_URL_FORBIDDEN');
    expect(gitServer.requests.length).toBe(before);
  });
});
