// The Drive connector against a local Drive that speaks the API's wire format (real HTTP).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { driveComment } from '../../../test/fixtures/inbox/builders.js';
import {
  DRIVE_READONLY,
  startFakeDrive,
  type FakeDrive,
} from '../../../test/fixtures/inbox/fake-drive.js';
import { appFor, consent, doubles, syncAll } from '../../../test/fixtures/inbox/sync-helpers.js';
import { createConnector, generateCodeVerifier, generateState, type Connector } from './index.js';

const USER = 'mara@acme.dev';
const ANN = { displayName: 'Ann Okafor', emailAddress: 'ann@acme.dev' };

function file(id: string, comments: ReturnType<typeof driveComment>[]) {
  return {
    id,
    name: `Design ${id}`,
    mimeType: 'application/vnd.google-apps.document',
    modifiedTime: new Date().toISOString(),
    comments,
  };
}

describe('drive connector', () => {
  let fake: FakeDrive;
  let drive: Connector;
  const now = Date.now();

  beforeEach(async () => {
    fake = await startFakeDrive({
      user: { displayName: 'Mara Lindqvist', emailAddress: USER },
      files: [
        file('f1', [
          driveComment({
            id: 'c1',
            author: ANN,
            content: '+mara@acme.dev can you check the retry numbers?',
            created: now - 3_600_000,
            assignee: USER,
          }),
          driveComment({ id: 'c2', author: ANN, content: 'typo here', created: now - 3_000_000 }),
        ]),
        file('f2', [
          driveComment({
            id: 'c3',
            author: ANN,
            content: 'Thoughts @mara@acme.dev?',
            created: now - 2_000_000,
            mentioned: [USER],
          }),
        ]),
        file('f3', []),
      ],
    });
    drive = createConnector(
      'drive',
      appFor(
        fake.url,
        { authorize: '/o/oauth2/v2/auth', token: '/token' },
        { id: 'drive-client', secret: 'drive-secret' },
      ),
      fetch,
      {
        drive: { pageSize: 2 },
      },
    );
  });
  afterEach(() => fake.close());

  async function signIn() {
    const verifier = generateCodeVerifier();
    const url = drive.authorizeUrl({ state: generateState(), codeVerifier: verifier });
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe(DRIVE_READONLY);
    return drive.exchange((await consent(url)).code, verifier);
  }

  it('first sync: the comments assigned to or mentioning the user, as items', async () => {
    const credentials = await signIn();
    expect((await drive.test(credentials)).every((s) => s.ok)).toBe(true);
    const first = await syncAll(drive, credentials, null);
    expect(first.items.map((i) => i.ref).sort()).toEqual(['f1/c1', 'f2/c3']);
    expect(doubles(first.items)).toEqual([]);
    const assigned = first.items.find((i) => i.ref === 'f1/c1')!;
    expect(assigned).toMatchObject({
      kind: 'drive',
      waitingOnUser: true,
      asksUser: true,
      closed: false,
    });
    expect(assigned.url).toContain('disco=c1');
    expect(assigned.people).toContainEqual({ role: 'assignee', email: USER, isUser: true });
  });

  it('follows changes: new, resolved, deleted comments, trashed and removed files', async () => {
    const credentials = await signIn();
    const first = await syncAll(drive, credentials, null);
    fake.addComment(
      'f3',
      driveComment({
        id: 'c4',
        author: ANN,
        content: 'Please own this section',
        created: Date.now(),
        assignee: USER,
      }),
    );
    fake.updateComment('f1', 'c1', { resolved: true });
    const next = await syncAll(drive, credentials, first.cursor);
    expect(next.items.map((i) => [i.ref, i.closed]).sort()).toEqual([
      ['f1/c1', true],
      ['f3/c4', false],
    ]);
    fake.deleteComment('f3', 'c4');
    fake.trashFile('f1');
    fake.removeFile('f2');
    const gone = await syncAll(drive, credentials, next.cursor);
    expect(gone.items).toEqual([]);
    expect(gone.removedRefs.sort()).toEqual(['f1/c1', 'f2/c3', 'f3/c4']);
    const quiet = await syncAll(drive, credentials, gone.cursor);
    expect([quiet.items, quiet.removedRefs]).toEqual([[], []]);
  });

  it('an invalid page token starts a bounded re-backfill: nothing lost, nothing doubled', async () => {
    const credentials = await signIn();
    const first = await syncAll(drive, credentials, null);
    fake.addComment(
      'f2',
      driveComment({
        id: 'c5',
        author: ANN,
        content: 'and this? +mara@acme.dev',
        created: Date.now(),
        mentioned: [USER],
      }),
    );
    fake.expirePageTokens();
    const again = await syncAll(drive, credentials, first.cursor);
    expect(again.rebackfilled).toBe(true);
    expect(again.items.map((i) => i.ref).sort()).toEqual(['f1/c1', 'f2/c3', 'f2/c5']);
    expect(doubles(again.items)).toEqual([]);
    fake.deleteComment('f2', 'c5');
    const after = await syncAll(drive, credentials, again.cursor);
    expect(after.rebackfilled).toBe(false);
    expect(after.removedRefs).toEqual(['f2/c5']);
  });

  it('rate limited: no request until Retry-After, then it resumes', async () => {
    const credentials = await signIn();
    const first = await syncAll(drive, credentials, null);
    fake.rateLimitNext(1, { retryAfterS: 1, status: 403 });
    await expect(drive.sync(credentials, first.cursor)).rejects.toMatchObject({
      kind: 'rate_limited',
    });
    const sent = fake.apiRequests().length;
    await expect(drive.sync(credentials, first.cursor)).rejects.toMatchObject({
      kind: 'rate_limited',
    });
    expect(fake.apiRequests().length).toBe(sent);
    // Poll (not a fixed sleep) until the gate opens again.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const result = await drive.sync(credentials, first.cursor).catch((e: unknown) => e);
      if (!(result instanceof Error)) break;
      if (Date.now() > deadline) throw result;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('token refresh, and a missing scope named', async () => {
    const credentials = await signIn();
    fake.oauth.expireAccessTokens();
    await expect(drive.sync(credentials, null)).rejects.toMatchObject({ kind: 'auth_expired' });
    const refreshed = await drive.refresh(credentials);
    expect((await drive.sync(refreshed, null)).items.length).toBeGreaterThan(0);
    const narrow = {
      accessToken: fake.oauth.mint(['https://www.googleapis.com/auth/drive.file']).accessToken,
    };
    await expect(drive.sync(narrow, null)).rejects.toMatchObject({
      kind: 'missing_scope',
      message: expect.stringContaining(DRIVE_READONLY) as string,
    });
  });
});
