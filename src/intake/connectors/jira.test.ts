// The Jira connector against a local Jira Cloud + Atlassian OAuth (real HTTP, Atlassian's wire format).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jiraIssue } from '../../../test/fixtures/inbox/builders.js';
import { startFakeJira, type FakeJira } from '../../../test/fixtures/inbox/fake-jira.js';
import { appFor, consent, doubles, syncAll } from '../../../test/fixtures/inbox/sync-helpers.js';
import {
  type ConnectorError,
  createConnector,
  generateCodeVerifier,
  generateState,
  JIRA_SCOPES,
  type Connector,
} from './index.js';

const ME = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Mara Lindqvist' };
const JON = { accountId: '5b10a2844c20165700ede21g', displayName: 'Jon Park' };
const MIN = 60_000;

function issues(now: number) {
  return Array.from({ length: 5 }, (_, n) =>
    jiraIssue({
      id: String(10_001 + n),
      key: `PAY-${n + 1}`,
      summary: `Payment retries ${n + 1}`,
      description:
        n === 0 ? 'Can you look at the retry budget? Blocks PAY-2.' : 'Details in the doc.',
      mentions: n === 0 ? [{ accountId: ME.accountId, text: '@Mara Lindqvist' }] : [],
      status: n === 4 ? 'Done' : 'In Progress',
      priority: n === 0 ? 'Highest' : 'Medium',
      assignee: n < 3 ? ME : JON,
      reporter: JON,
      watchers: n >= 3 ? [ME.accountId] : [],
      duedate: n === 0 ? '2026-12-09' : undefined,
      links: n === 0 ? [{ type: 'Blocks', outward: 'PAY-2' }] : [],
      created: now - (10 - n) * 60 * MIN,
      updated: now - (10 - n) * MIN,
    }),
  ).concat([
    // Not the user's: neither assignee, reporter nor watcher.
    jiraIssue({
      id: '10999',
      key: 'OPS-9',
      summary: 'Someone else',
      description: '',
      status: 'To Do',
      assignee: JON,
      reporter: JON,
      created: now - MIN,
      updated: now - MIN,
    }),
  ]);
}

describe('jira connector', () => {
  let fake: FakeJira;
  let jira: Connector;

  beforeEach(async () => {
    fake = await startFakeJira({
      user: { ...ME, emailAddress: 'mara@acme.dev' },
      issues: issues(Date.now()),
    });
    jira = createConnector(
      'jira',
      appFor(
        fake.url,
        { authorize: '/authorize', token: '/oauth/token' },
        { id: 'jira-client', secret: 'jira-secret' },
      ),
      fetch,
      {
        jira: { pageSize: 2 },
      },
    );
  });
  afterEach(() => fake.close());

  async function signIn() {
    const url = jira.authorizeUrl({ state: generateState(), codeVerifier: generateCodeVerifier() });
    // Atlassian's 3LO documents no PKCE: none is sent; audience and prompt are.
    expect(url.searchParams.get('code_challenge')).toBeNull();
    expect(url.searchParams.get('audience')).toBe('api.atlassian.com');
    expect(url.searchParams.get('scope')).toBe(JIRA_SCOPES.join(' '));
    return jira.exchange((await consent(url)).code, '');
  }

  it('signs in, finds the site and the user, and backfills the issues that are theirs', async () => {
    const credentials = await signIn();
    expect(credentials.extra).toMatchObject({
      cloudId: fake.cloudId,
      siteUrl: fake.siteUrl,
      accountId: ME.accountId,
    });
    expect((await jira.test(credentials)).every((s) => s.ok)).toBe(true);
    const first = await syncAll(jira, credentials, null);
    expect(first.items.map((i) => i.identifiers.issueKey).sort()).toEqual([
      'PAY-1',
      'PAY-2',
      'PAY-3',
      'PAY-4',
      'PAY-5',
    ]);
    expect(first.pages).toBe(3);
    const pay1 = first.items.find((i) => i.identifiers.issueKey === 'PAY-1')!;
    expect(pay1).toMatchObject({
      priority: 'highest',
      dueAt: '2026-12-09T23:59:59.000Z',
      waitingOnUser: true,
      asksUser: true,
      url: `${fake.siteUrl}/browse/PAY-1`,
    });
    expect(pay1.mentions).toContain('PAY-2');
    expect(first.items.find((i) => i.identifiers.issueKey === 'PAY-5')!.closed).toBe(true);
  });

  it('incremental with an overlap window: changes once, unchanged overlap dropped, deletions found', async () => {
    const credentials = await signIn();
    const first = await syncAll(jira, credentials, null);
    const quiet = await syncAll(jira, credentials, first.cursor);
    // The overlap window re-reads the newest issues; unchanged, they are not emitted again.
    expect(fake.requests.some((r) => /updated >= "-\d+m"/.test(r.query.get('jql') ?? ''))).toBe(
      true,
    );
    expect(quiet.items).toEqual([]);
    fake.updateIssue('10002', { summary: 'Payment retries 2 (renamed)' });
    fake.deleteIssue('10003');
    const next = await syncAll(jira, credentials, quiet.cursor);
    expect(next.items.map((i) => i.title)).toEqual(['PAY-2: Payment retries 2 (renamed)']);
    expect(next.removedRefs).toEqual(['10003']);
    const again = await syncAll(jira, credentials, next.cursor);
    expect([again.items, again.removedRefs]).toEqual([[], []]);
    expect(
      doubles([...first.items, ...next.items].filter((i) => i.title.includes('renamed'))),
    ).toEqual([]);
  });

  it('rate limited with Retry-After: nothing sent while blocked', async () => {
    const credentials = await signIn();
    fake.rateLimitNext(1, { retryAfterS: 300 });
    const error = (await jira.sync(credentials, null).catch((e: unknown) => e)) as ConnectorError;
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAt!.getTime()).toBeGreaterThan(Date.now() + 290_000);
    const sent = fake.apiRequests().length;
    await expect(jira.sync(credentials, null)).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(fake.apiRequests().length).toBe(sent);
  });

  it('refresh rotates the refresh token; the old one is refused', async () => {
    const credentials = await signIn();
    fake.oauth.expireAccessTokens();
    await expect(jira.sync(credentials, null)).rejects.toMatchObject({ kind: 'auth_expired' });
    const refreshed = await jira.refresh(credentials);
    expect(refreshed.refreshToken).not.toBe(credentials.refreshToken);
    expect(refreshed.extra?.cloudId).toBe(fake.cloudId);
    expect((await jira.sync(refreshed, null)).items.length).toBeGreaterThan(0);
    await expect(jira.refresh(credentials)).rejects.toMatchObject({
      kind: 'auth_revoked',
      message: /reconnect Jira/,
    });
  });

  it('a grant without read:jira-work is missing_scope, at connect and at sync', async () => {
    fake.oauth.grantOnly = ['read:jira-user', 'offline_access'];
    const url = jira.authorizeUrl({ state: 's', codeVerifier: 'v' });
    await expect(jira.exchange((await consent(url)).code, '')).rejects.toMatchObject({
      kind: 'missing_scope',
    });
    const narrow = fake.oauth.mint(['read:jira-user']);
    const credentials = {
      ...narrow,
      scopes: ['read:jira-user'],
      extra: { cloudId: fake.cloudId, siteUrl: fake.siteUrl, accountId: ME.accountId },
    };
    await expect(jira.sync(credentials, null)).rejects.toMatchObject({
      kind: 'missing_scope',
      message: expect.stringContaining('read:jira-work') as string,
    });
    const steps = await jira.test(credentials);
    expect(steps.find((s) => !s.ok)?.detail).toContain('read:jira-work');
  });
});
