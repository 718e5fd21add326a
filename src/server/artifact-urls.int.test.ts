/**
 * Signed artifact URLs through the real app (in-process, real SQLite): the URL handed out is
 * absolute, on PATCHBAY_PUBLIC_URL when set, else on the origin the request came to, and it
 * opens the artifact without a token.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testRunRecord } from '../../test/helpers/records.js';
import { injectServers } from '../../test/helpers/inject-server.js';

const servers = injectServers('pb-artifact-url-');
afterEach(() => servers.closeAll());

const TOKEN = 'artifact-url-test-token';

async function withArtifact(env: Record<string, string> = {}) {
  const server = await servers.boot({ PATCHBAY_API_TOKENS: TOKEN, ...env });
  const run = testRunRecord({ kind: 'optimize.baseline' }, { status: 'succeeded' });
  await server.store.runs.insert(run);
  mkdirSync(join(server.dataDir, 'artifacts', 'art_logs'), { recursive: true });
  writeFileSync(join(server.dataDir, 'artifacts', 'art_logs', 'logs.txt'), 'install ok\n');
  await server.store.artifacts.insert({
    id: 'art_logs',
    runId: run.id,
    optimizationId: run.id,
    repoId: null,
    name: 'logs.txt',
    bytes: 11,
    sha256: 'x',
    contentType: 'text/plain; charset=utf-8',
    createdAt: new Date().toISOString(),
    path: 'art_logs/logs.txt',
  });
  const sign = async (headers: Record<string, string> = {}) => {
    const res = await server.app.inject({
      url: '/v1/artifacts/art_logs/url',
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ url: string; path: string; expiresAt: string }>();
  };
  return { server, sign };
}

describe('signed artifact URLs', () => {
  it('are absolute on the origin the request came to, and open the artifact without a token', async () => {
    const { server, sign } = await withArtifact({ PATCHBAY_ALLOWED_HOSTS: 'patchbay.internal' });
    const signed = await sign({ host: 'patchbay.internal:7070' });
    expect(signed.path).toMatch(
      /^\/v1\/signed\/artifacts\/art_logs\?expires=\d+&sig=[0-9a-f]{64}$/,
    );
    expect(signed.url).toBe(`http://patchbay.internal:7070${signed.path}`);
    const opened = await server.app.inject({ url: signed.path });
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toBe('install ok\n');
    expect((await server.app.inject({ url: '/v1/artifacts/art_logs' })).statusCode).toBe(401);
  });

  it('never point at a Host the server does not know: the bound address instead', async () => {
    const { sign } = await withArtifact();
    const signed = await sign({ host: 'attacker.example:7070' });
    expect(signed.url).toBe(`http://127.0.0.1:7070${signed.path}`);
  });

  it('start with PATCHBAY_PUBLIC_URL when it is set (a proxy in front)', async () => {
    const { sign } = await withArtifact({
      PATCHBAY_PUBLIC_URL: 'https://patchbay.example.com/',
    });
    const signed = await sign({ host: '127.0.0.1:7070' });
    expect(signed.url).toBe(`https://patchbay.example.com${signed.path}`);
  });

  it('PATCHBAY_PUBLIC_URL must be an http(s) URL', async () => {
    await expect(servers.boot({ PATCHBAY_PUBLIC_URL: 'ftp://x.example' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
