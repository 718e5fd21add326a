/**
 * `patchbay keys rotate` through the real CLI (bin/patchbay.js) against a store holding inbox
 * connector tokens, on SQLite and PostgreSQL: rows sealed with the old key keep opening while
 * both keys are listed, the command re-seals every readable row under the new key id, a
 * tampered row fails with INBOX_CREDENTIALS_UNREADABLE (exit 69, the row left as it was), a
 * second run re-seals nothing, and no token appears in anything the command prints.
 */
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, openStore, type Store } from '../../src/store/index.js';
import { storeDialects } from '../helpers/services.js';
import { assertBuilt, BIN, cleanEnv, tempDir } from './helpers.js';

const K1 = 'k1:the-old-key-long-enough-to-be-a-key';
const K2 = 'k2:the-new-key-also-long-enough-to-be-one';
const keyring = (...entries: string[]) =>
  createKeyring(entries.map((e) => [e.slice(0, e.indexOf(':')), e.slice(e.indexOf(':') + 1)]));

const TOKENS = {
  github: { accessToken: 'ghp_rotate_me_github_0123456789' },
  gmail: { accessToken: 'ya29.rotate-me-gmail', refreshToken: '1//rotate-me-gmail-refresh' },
  drive: { accessToken: 'ya29.rotate-me-drive', refreshToken: '1//rotate-me-drive-refresh' },
  jira: { accessToken: 'jira-access-rotate-me', refreshToken: 'jira-refresh-rotate-me' },
} as const;
const SECRETS = Object.values(TOKENS).flatMap((t) => Object.values(t));

beforeAll(() => assertBuilt());

describe.each(storeDialects)('patchbay keys rotate ($name)', (dialect) => {
  let url = '';
  let dataDir = '';
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    ({ url, cleanup } = opened);
    dataDir = tempDir('pb-keys-');
  });
  afterAll(async () => {
    await cleanup?.();
  });

  const rotate = (keys: string) =>
    spawnSync(process.execPath, [BIN, 'keys', 'rotate'], {
      env: cleanEnv({
        PATCHBAY_DATABASE_URL: url,
        PATCHBAY_DATA_DIR: dataDir,
        PATCHBAY_INBOX_KEYS: keys,
        PATCHBAY_LOG_LEVEL: 'debug',
      }),
      encoding: 'utf8',
      timeout: 60_000,
    });

  async function rows(store: Store) {
    const { rows } = await sql<{
      kind: string;
      key_id: string;
      credentials: string;
    }>`select kind, key_id, credentials from inbox_connectors order by kind`.execute(
      store.handle.db,
    );
    return Object.fromEntries(rows.map((r) => [r.kind, r]));
  }

  it('re-seals every row under the new key; old rows open meanwhile; a tampered row fails with its code', async ({
    skip: s,
  }) => {
    if (skip) s();
    // Three connectors sealed with k1.
    const old = await openStore({ databaseUrl: url, keyring: keyring(K1) });
    for (const kind of ['github', 'gmail', 'jira'] as const)
      await old.connectors.saveCredentials(kind, TOKENS[kind]);
    await old.close();

    // k2 put first, k1 kept: old rows open, a reconnect seals with k2 (mixed keys now).
    const both = await openStore({ databaseUrl: url, migrate: false, keyring: keyring(K2, K1) });
    expect(await both.connectors.openCredentials('github')).toEqual(TOKENS.github);
    await both.connectors.saveCredentials('drive', TOKENS.drive);
    const before = await rows(both);
    expect(Object.values(before).map((r) => r.key_id)).toEqual(['k2', 'k1', 'k1', 'k1']);
    // jira's sealed value altered by one character (after its nonce).
    const c = before.jira!.credentials;
    const at = c.length - 10;
    const tampered = c.slice(0, at) + (c[at] === 'A' ? 'B' : 'A') + c.slice(at + 1);
    await sql`update inbox_connectors set credentials = ${tampered} where kind = 'jira'`.execute(
      both.handle.db,
    );

    const first = rotate(`${K2},${K1}`);
    const printed = first.stdout + first.stderr;
    // An operational failure (docs/cli.md: 69), with its code, after the readable rows moved.
    expect(first.status, printed).toBe(69);
    expect(first.stdout).toContain('re-sealed 2 of 4 connector credentials under key k2');
    expect(first.stderr).toContain('INBOX_CREDENTIALS_UNREADABLE');
    expect(first.stderr).toContain('jira');
    for (const secret of SECRETS) expect(printed).not.toContain(secret);

    const after = await rows(both);
    expect(after.github!.key_id).toBe('k2');
    expect(after.gmail!.key_id).toBe('k2');
    expect(after.github!.credentials).not.toBe(before.github!.credentials);
    // drive was under k2 already: untouched; jira: left as it was, still under k1.
    expect(after.drive!.credentials).toBe(before.drive!.credentials);
    expect(after.jira).toEqual({ ...before.jira, credentials: tampered });
    await both.close();

    // k1 removed: every re-sealed row opens with k2 alone; the tampered one does not.
    const only = await openStore({ databaseUrl: url, migrate: false, keyring: keyring(K2) });
    for (const kind of ['github', 'gmail', 'drive'] as const)
      expect(await only.connectors.openCredentials(kind)).toEqual(TOKENS[kind]);
    await expect(only.connectors.openCredentials('jira')).rejects.toMatchObject({
      code: 'INBOX_KEY_MISSING',
    });
    // Reconnected (sealed anew), then a second rotation finds nothing left to do.
    await only.connectors.saveCredentials('jira', TOKENS.jira);
    await only.close();
    const second = rotate(`${K2},${K1}`);
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('re-sealed 0 of 4 connector credentials under key k2');
    for (const secret of SECRETS) expect(second.stdout + second.stderr).not.toContain(secret);

    // A malformed key list is refused without echoing the key material it holds.
    const bad = rotate(`${K2},k3:leak-me-not`);
    expect(bad.status).toBe(78);
    expect(bad.stderr).toContain('PATCHBAY_INBOX_KEYS');
    expect(bad.stdout + bad.stderr).not.toContain('leak-me-not');
    expect(bad.stdout + bad.stderr).not.toContain(K2.slice(3));
  });
});
