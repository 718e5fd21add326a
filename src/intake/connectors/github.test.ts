// The GitHub connector against a local GitHub (real HTTP, GitHub's wire format, ETags and rate limits).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { githubIssue } from '../../../test/fixtures/inbox/builders.js';
import { startFakeGithub, type FakeGithub } from '../../../test/fixtures/inbox/fake-github.js';
import { appFor, consent, doubles, syncAll } from '../../../test/fixtures/inbox/sync-helpers.js';
import {
  type ConnectorError,
  createConnector,
  generateCodeVerifier,
  generateState,
  githubTokenCredentials,
  type Connector,
} from './index.js';

const ME = 'mlindqvist';
const H = 3_600_000;

function issues(now: number) {
  return [
    githubIssue({
      repo: 'acme/payments',
      number: 41,
      title: 'Retry storms on 503',
      body: 'Seen in PAY-12.',
      author: 'jpark',
      assignees: [ME],
      labels: ['bug', 'P1'],
      created: now - 50 * H,
      updated: now - 2 * H,
    }),
    githubIssue({
      repo: 'acme/payments',
      number: 42,
      title: 'Backoff with jitter',
      body: 'Fixes #41',
      author: ME,
      pr: true,
      created: now - 20 * H,
      updated: now - H,
    }),
    githubIssue({
      repo: 'acme/web',
      number: 7,
      title: 'Checkout copy',
      body: '@mlindqvist could you check the wording?',
      author: 'aokafor',
      created: now - 10 * H,
      updated: now - 3 * H,
    }),
    githubIssue({
      repo: 'acme/payments',
      number: 43,
      title: 'Bump pg',
      body: 'deps',
      author: 'renovate',
      pr: true,
      reviewers: [ME],
      created: now - 5 * H,
      updated: now - 4 * H,
    }),
    githubIssue({
      repo: 'acme/web',
      number: 8,
      title: 'Not mine',
      body: 'nothing',
      author: 'aokafor',
      created: now - 5 * H,
      updated: now - 4 * H,
    }),
  ];
}

describe('github connector', () => {
  let fake: FakeGithub;
  let github: Connector;

  beforeEach(async () => {
    fake = await startFakeGithub({
      login: ME,
      issues: issues(Date.now()),
      token: { value: 'github_pat_fine', scopes: null },
    });
    github = createConnector(
      'github',
      appFor(
        fake.url,
        { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token' },
        { id: 'Iv1.fakegithub', secret: 'github-secret' },
      ),
      fetch,
    );
  });
  afterEach(() => fake.close());

  async function signIn() {
    const verifier = generateCodeVerifier();
    const url = github.authorizeUrl({ state: generateState(), codeVerifier: verifier });
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    return github.exchange((await consent(url)).code, verifier);
  }

  it('OAuth with PKCE; first sync finds assigned, created, mentioned and review-requested items', async () => {
    const credentials = await signIn();
    expect(credentials).toMatchObject({ scopes: ['repo', 'read:user'], extra: { login: ME } });
    const steps = await github.test(credentials);
    expect(steps.every((s) => s.ok)).toBe(true);
    expect(steps.at(-1)!.detail).toMatch(/304/);
    const first = await syncAll(github, credentials, null);
    expect(first.items.map((i) => i.identifiers.issueKey).sort()).toEqual([
      'acme/payments#41',
      'acme/payments#42',
      'acme/payments#43',
      'acme/web#7',
    ]);
    expect(doubles(first.items)).toEqual([]);
    const review = first.items.find((i) => i.identifiers.issueKey === 'acme/payments#43')!;
    expect(review).toMatchObject({ waitingOnUser: true });
    expect(review.labels).toContain('review requested');
    expect(first.items.find((i) => i.identifiers.issueKey === 'acme/web#7')!.asksUser).toBe(true);
    expect(
      first.items.find((i) => i.identifiers.issueKey === 'acme/payments#42')!.mentions,
    ).toContain('acme/payments#41');
    expect(first.items.find((i) => i.identifiers.issueKey === 'acme/payments#41')!.priority).toBe(
      'high',
    );
  });

  it('a token works as well, and unchanged feeds cost nothing (304)', async () => {
    const credentials = githubTokenCredentials('github_pat_fine');
    expect((await github.test(credentials)).every((s) => s.ok)).toBe(true);
    const first = await syncAll(github, credentials, null);
    expect(first.items).toHaveLength(4);
    const remaining = fake.remaining();
    const before = fake.notModified();
    const quiet = await syncAll(github, credentials, first.cursor);
    expect([quiet.items, quiet.removedRefs]).toEqual([[], []]);
    expect(fake.notModified() - before).toBe(4);
    expect(fake.remaining()).toBe(remaining);
  });

  it('changes once, deletions and lost involvement as removedRefs', async () => {
    const credentials = await signIn();
    const first = await syncAll(github, credentials, null);
    const byKey = (key: string) => first.items.find((i) => i.identifiers.issueKey === key)!.ref;
    fake.updateIssue(byKey('acme/payments#41'), { state: 'closed' });
    fake.deleteIssue(byKey('acme/web#7'));
    fake.updateIssue(byKey('acme/payments#43'), { requested_reviewers_logins: [] });
    const next = await syncAll(github, credentials, first.cursor);
    expect(next.items.map((i) => [i.identifiers.issueKey, i.closed])).toEqual([
      ['acme/payments#41', true],
    ]);
    expect(next.removedRefs.sort()).toEqual(
      [byKey('acme/payments#43'), byKey('acme/web#7')].sort(),
    );
    const quiet = await syncAll(github, credentials, next.cursor);
    expect([quiet.items, quiet.removedRefs]).toEqual([[], []]);
  });

  it('x-ratelimit-remaining 0: rate_limited until x-ratelimit-reset, nothing sent meanwhile', async () => {
    const credentials = await signIn();
    fake.rateLimitNext(1, { resetInS: 900 });
    const error = (await github.sync(credentials, null).catch((e: unknown) => e)) as ConnectorError;
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAt!.getTime()).toBeGreaterThan(Date.now() + 880_000);
    const sent = fake.apiRequests().length;
    await expect(github.sync(credentials, null)).rejects.toMatchObject({ kind: 'rate_limited' });
    await expect(github.test(credentials)).resolves.toMatchObject([{ step: 'auth', ok: false }]);
    expect(fake.apiRequests().length).toBe(sent);
  });

  it('a secondary rate limit (429 Retry-After) too', async () => {
    const credentials = githubTokenCredentials('github_pat_fine');
    fake.rateLimitNext(1, { resetInS: 60, secondary: true });
    const error = (await github.sync(credentials, null).catch((e: unknown) => e)) as ConnectorError;
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAt!.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('bad credentials are auth_expired; an OAuth app token without refresh token says reconnect', async () => {
    const credentials = await signIn();
    fake.oauth.expireAccessTokens();
    await expect(github.sync(credentials, null)).rejects.toMatchObject({ kind: 'auth_expired' });
    await expect(github.refresh(credentials)).rejects.toMatchObject({
      kind: 'auth_revoked',
      message: /reconnect GitHub/,
    });
  });

  it('a classic token without repo is missing_scope', async () => {
    const narrow = { accessToken: fake.oauth.mint(['read:user']).accessToken };
    await expect(github.sync(narrow, null)).rejects.toMatchObject({
      kind: 'missing_scope',
      message: expect.stringContaining('repo') as string,
    });
    const steps = await github.test(narrow);
    expect(steps.find((s) => !s.ok)).toMatchObject({ step: 'scopes' });
  });
});
