// The Gmail connector against a local Gmail that speaks the API's wire format (real HTTP).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gmailMessage } from '../../../test/fixtures/inbox/builders.js';
import {
  GMAIL_READONLY,
  startFakeGmail,
  type FakeGmail,
} from '../../../test/fixtures/inbox/fake-gmail.js';
import { appFor, consent, doubles, syncAll } from '../../../test/fixtures/inbox/sync-helpers.js';
import {
  ConnectorError,
  createConnector,
  generateCodeVerifier,
  generateState,
  type Connector,
} from './index.js';

const USER = 'mara@acme.dev';
const HOUR = 3_600_000;

function seed(count: number): ReturnType<typeof gmailMessage>[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, n) =>
    gmailMessage({
      id: `m${String(n).padStart(3, '0')}`,
      threadId: `t${Math.floor(n / 2)}`,
      from: n % 2 ? `"Jon Park" <jon@acme.dev>` : `"Mara Lindqvist" <${USER}>`,
      to: n % 2 ? USER : 'jon@acme.dev',
      subject: `${n % 2 ? 'Re: ' : ''}Release plan ${Math.floor(n / 2)}`,
      snippet: n % 2 ? 'Can you confirm the date?' : 'Here is the plan',
      at: now - (count - n) * HOUR,
    }),
  );
}

describe('gmail connector', () => {
  let fake: FakeGmail;
  let gmail: Connector;

  beforeEach(async () => {
    fake = await startFakeGmail({
      user: USER,
      messages: [
        ...seed(7),
        gmailMessage({
          id: 'old',
          from: 'x@y.z',
          to: USER,
          subject: 'ancient',
          snippet: '',
          at: Date.now() - 90 * 24 * HOUR,
        }),
      ],
    });
    gmail = createConnector(
      'gmail',
      appFor(
        fake.url,
        { authorize: '/o/oauth2/v2/auth', token: '/token' },
        { id: 'gmail-client', secret: 'gmail-secret' },
      ),
      fetch,
      { gmail: { pageSize: 3 } },
    );
  });
  afterEach(() => fake.close());

  async function signIn() {
    const verifier = generateCodeVerifier();
    const url = gmail.authorizeUrl({ state: generateState(), codeVerifier: verifier });
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe(GMAIL_READONLY);
    expect(url.searchParams.get('access_type')).toBe('offline');
    const { code } = await consent(url);
    return gmail.exchange(code, verifier);
  }

  it('signs in with PKCE, passes its test steps and backfills the window in pages', async () => {
    const credentials = await signIn();
    expect(credentials.refreshToken).toBeTruthy();
    expect(credentials.scopes).toEqual([GMAIL_READONLY]);
    const steps = await gmail.test(credentials);
    expect(steps.map((s) => [s.step, s.ok])).toEqual([
      ['auth', true],
      ['scopes', true],
      ['call', true],
      ['cursor', true],
    ]);
    const first = await syncAll(gmail, credentials, null);
    expect(first.pages).toBe(3);
    expect(first.items.map((i) => i.ref).sort()).toEqual([
      'm000',
      'm001',
      'm002',
      'm003',
      'm004',
      'm005',
      'm006',
    ]);
    expect(doubles(first.items)).toEqual([]);
    const reply = first.items.find((i) => i.ref === 'm001')!;
    expect(reply.identifiers.threadId).toBe('t0');
    expect(reply.waitingOnUser).toBe(true);
    expect(reply.asksUser).toBe(true);
    expect(reply.people.find((p) => p.role === 'to')).toMatchObject({ email: USER, isUser: true });
  });

  it('a wrong PKCE verifier is refused with a reconnect message', async () => {
    const url = gmail.authorizeUrl({ state: 's', codeVerifier: generateCodeVerifier() });
    const { code } = await consent(url);
    await expect(gmail.exchange(code, generateCodeVerifier())).rejects.toMatchObject({
      kind: 'auth_revoked',
    });
  });

  it('follows history: new messages, trash and deletion, then nothing', async () => {
    const credentials = await signIn();
    const first = await syncAll(gmail, credentials, null);
    const added = fake.addMessage(
      gmailMessage({
        from: 'ci@acme.dev',
        to: USER,
        subject: 'Build failed on main',
        snippet: 'PAY-12 broke',
        at: Date.now(),
      }),
    );
    fake.modifyLabels('m003', ['TRASH'], ['INBOX']);
    fake.deleteMessage('m004');
    const next = await syncAll(gmail, credentials, first.cursor);
    expect(next.items.map((i) => i.ref)).toEqual([added.id]);
    expect(next.items[0]!.mentions).toContain('PAY-12');
    expect(next.removedRefs.sort()).toEqual(['m003', 'm004']);
    const quiet = await syncAll(gmail, credentials, next.cursor);
    expect(quiet.items).toEqual([]);
    expect(quiet.removedRefs).toEqual([]);
  });

  it('an expired historyId starts a bounded re-backfill: nothing lost, nothing doubled', async () => {
    const credentials = await signIn();
    const first = await syncAll(gmail, credentials, null);
    const added = fake.addMessage(
      gmailMessage({
        from: 'jon@acme.dev',
        to: USER,
        subject: 'While you were away',
        snippet: 'hi',
        at: Date.now(),
      }),
    );
    fake.expireHistory();
    const again = await syncAll(gmail, credentials, first.cursor);
    expect(again.rebackfilled).toBe(true);
    expect(again.items.map((i) => i.ref)).toContain(added.id);
    expect(again.items).toHaveLength(8);
    expect(doubles(again.items)).toEqual([]);
    // And history works again from the new id.
    const later = fake.addMessage(
      gmailMessage({
        from: 'jon@acme.dev',
        to: USER,
        subject: 'after',
        snippet: '',
        at: Date.now(),
      }),
    );
    const after = await syncAll(gmail, credentials, again.cursor);
    expect(after.rebackfilled).toBe(false);
    expect(after.items.map((i) => i.ref)).toEqual([later.id]);
  });

  it('a rate limit blocks every request until Retry-After has passed', async () => {
    const credentials = await signIn();
    const first = await syncAll(gmail, credentials, null);
    fake.rateLimitNext(1, { retryAfterS: 120 });
    const before = Date.now();
    const error = await gmail.sync(credentials, first.cursor).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).kind).toBe('rate_limited');
    expect((error as ConnectorError).retryAt!.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect((error as ConnectorError).message).toMatch(/rate limited until/);
    const sent = fake.apiRequests().length;
    await expect(gmail.sync(credentials, first.cursor)).rejects.toMatchObject({
      kind: 'rate_limited',
    });
    await expect(gmail.test(credentials)).resolves.toMatchObject([{ step: 'auth', ok: false }]);
    expect(fake.apiRequests().length).toBe(sent);
  });

  it("Google's 403 userRateLimitExceeded is a rate limit too", async () => {
    const credentials = { accessToken: fake.oauth.mint([GMAIL_READONLY]).accessToken };
    fake.rateLimitNext(1, { status: 403, retryAfterS: 5 });
    await expect(gmail.sync(credentials, null)).rejects.toMatchObject({ kind: 'rate_limited' });
  });

  it('an expired access token is auth_expired; refresh brings a working one', async () => {
    const credentials = await signIn();
    fake.oauth.expireAccessTokens();
    await expect(gmail.sync(credentials, null)).rejects.toMatchObject({ kind: 'auth_expired' });
    const refreshed = await gmail.refresh(credentials);
    expect(refreshed.accessToken).not.toBe(credentials.accessToken);
    expect(refreshed.refreshToken).toBe(credentials.refreshToken);
    expect(fake.oauth.refreshCount).toBe(1);
    const page = await gmail.sync(refreshed, null);
    expect(page.items.length).toBeGreaterThan(0);
    fake.oauth.revokeRefreshTokens();
    await expect(gmail.refresh(refreshed)).rejects.toMatchObject({
      kind: 'auth_revoked',
      message: /reconnect Gmail/,
    });
  });

  it('a token without gmail.readonly is missing_scope, naming it', async () => {
    const credentials = {
      accessToken: fake.oauth.mint(['openid', 'email']).accessToken,
      scopes: ['openid', 'email'],
    };
    await expect(gmail.sync(credentials, null)).rejects.toMatchObject({
      kind: 'missing_scope',
      message: expect.stringContaining(GMAIL_READONLY) as string,
    });
    const steps = await gmail.test(credentials);
    expect(steps.at(-1)).toMatchObject({ ok: false });
    expect(steps.find((s) => !s.ok)!.detail).toContain(GMAIL_READONLY);
  });
});
