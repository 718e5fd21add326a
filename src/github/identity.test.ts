/**
 * Commit identities with the real GitHub client against the local fake GitHub (App JWTs,
 * installation tokens, `GET /app`, `GET /users/:login`).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../../test/fixtures/github/fake-github.js';
import { createLogger } from '../observability/index.js';
import { createGithubClient } from './client.js';
import { createCommitIdentities, noreplyEmail, withCoAuthors } from './identity.js';

const log = createLogger({ level: 'silent' });
const REPO = 'octo/ids';
let dir: string;
let fake: FakeGithub;
let keyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patchbay-identity-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keyFile = join(dir, 'app.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  fake = await startFakeGithub({
    dir,
    appId: 7,
    appSlug: 'pb',
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    token: 'ghp_plain',
  });
  fake.addRepo(REPO);
});

afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (app: boolean) =>
  createGithubClient({
    config: {
      githubApiUrl: fake.url,
      githubUrl: fake.url,
      ...(app
        ? { githubAppId: 7, githubAppPrivateKeyFile: keyFile }
        : { githubToken: 'ghp_plain' }),
    } as Parameters<typeof createGithubClient>[0]['config'],
    log,
  });

const count = (path: string) => fake.requests.filter((r) => r.path === path).length;

describe('commit identities', () => {
  it('writes the noreply address and the Co-authored-by trailer as GitHub reads them', () => {
    expect(noreplyEmail(41898282, 'patchbay[bot]')).toBe(
      '41898282+patchbay[bot]@users.noreply.github.com',
    );
    expect(withCoAuthors('fix it\n', [{ name: 'Alice', email: 'a@x' }])).toBe(
      'fix it\n\nCo-authored-by: Alice <a@x>',
    );
    expect(withCoAuthors('fix it', [])).toBe('fix it');
  });

  it('commits as <slug>[bot] crediting the requester, asking GitHub once', async () => {
    const alice = fake.addUser('alice', 'Alice L');
    const bob = fake.addUser('bob');
    const ids = createCommitIdentities(client(true), log);
    const bot = { name: 'pb[bot]', email: `${fake.bot.id}+pb[bot]@users.noreply.github.com` };
    expect(await ids.authorship(REPO, 'alice')).toEqual({
      author: bot,
      coAuthors: [{ name: 'Alice L', email: `${alice.id}+alice@users.noreply.github.com` }],
    });
    expect(await ids.authorship(REPO, 'bob')).toEqual({
      author: bot,
      coAuthors: [{ name: 'bob', email: `${bob.id}+bob@users.noreply.github.com` }],
    });
    // Unknown to GitHub, or a bot: no trailer; no requester: none either.
    expect((await ids.authorship(REPO, 'ghost'))?.coAuthors).toEqual([]);
    expect((await ids.authorship(REPO, 'dependabot[bot]'))?.coAuthors).toEqual([]);
    expect((await ids.authorship(REPO))?.coAuthors).toEqual([]);
    await ids.authorship(REPO, 'alice');
    expect(count('/app')).toBe(1);
    expect(count('/users/pb%5Bbot%5D')).toBe(1);
    expect(count('/users/alice')).toBe(1);
  });

  it('commits as Patchbay without an App, or when GitHub cannot say (and asks again later)', async () => {
    expect(await createCommitIdentities(client(false), log).authorship(REPO, 'alice')).toBe(
      undefined,
    );
    const ids = createCommitIdentities(client(true), log);
    const before = count('/app');
    fake.failNext(/^GET \/app$/, 503, 1);
    expect(await ids.authorship(REPO, 'alice')).toBeUndefined();
    expect((await ids.authorship(REPO))?.author.name).toBe('pb[bot]');
    expect(count('/app')).toBe(before + 2);
  });
});
