import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PatchbayError } from '../contracts/index.js';
import { isPostgresUrl } from './db.js';
import { gcmOpen, gcmSeal, readOrCreateKeyFile } from './secret-box.js';

/**
 * Keys that seal rows which name their key (inbox connector credentials): each row stores the
 * id of the key it was sealed with, so a new key can be added and rows re-sealed one by one
 * (`patchbay keys rotate`) while the old ones still open. The row's identity is the AES-GCM
 * associated data: a sealed value copied onto another row does not open there.
 */
export interface Keyring {
  /** The key new values are sealed with. */
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  seal(value: string, aad: string): { keyId: string; sealed: string };
  /**
   * @throws PatchbayError INBOX_KEY_MISSING (no key `keyId` here) or
   *   INBOX_CREDENTIALS_UNREADABLE (tampered, or sealed for another row or another key).
   */
  open(keyId: string, sealed: string, aad: string): string;
}

/** The key id of the key derived from PATCHBAY_SECRETS_KEY or the data dir's key file. */
export const DEFAULT_KEY_ID = 'default';

/** `keys`: id → any secret string (hashed to a 32-byte key); the first is the active one. */
export function createKeyring(keys: ReadonlyArray<readonly [string, Buffer | string]>): Keyring {
  if (keys.length === 0) throw new Error('a keyring needs at least one key');
  const byId = new Map<string, Buffer>();
  for (const [id, key] of keys) {
    byId.set(id, typeof key === 'string' ? createHash('sha256').update(key).digest() : key);
  }
  const activeKeyId = keys[0]![0];
  return {
    activeKeyId,
    keyIds: [...byId.keys()],
    seal(value, aad) {
      return { keyId: activeKeyId, sealed: gcmSeal(byId.get(activeKeyId)!, value, aad) };
    },
    open(keyId, sealed, aad) {
      const key = byId.get(keyId);
      if (!key) {
        throw new PatchbayError(
          'INBOX_KEY_MISSING',
          `credentials sealed with key "${keyId}", which is not in PATCHBAY_INBOX_KEYS: add it back (after the active key) and run \`patchbay keys rotate\``,
          { keyId },
        );
      }
      try {
        return gcmOpen(key, sealed, aad);
      } catch {
        throw new PatchbayError(
          'INBOX_CREDENTIALS_UNREADABLE',
          `credentials of ${aad} do not open with key "${keyId}": the row was altered or sealed for another row; reconnect`,
          { keyId },
        );
      }
    },
  };
}

/**
 * Parses PATCHBAY_INBOX_KEYS entries `id:secret` (first = active). Unset: one key `default`,
 * the same one that seals runs' env values (PATCHBAY_SECRETS_KEY, or with SQLite the key file
 * in the data dir). Null for PostgreSQL with neither: credentials are then refused, never
 * stored in the clear.
 */
export function keyringFor(options: {
  inboxKeys: readonly string[];
  secretsKey: string | undefined;
  dataDir: string;
  databaseUrl: string;
}): Keyring | null {
  if (options.inboxKeys.length > 0) {
    return createKeyring(
      options.inboxKeys.map((entry) => {
        const at = entry.indexOf(':');
        return [entry.slice(0, at), entry.slice(at + 1)] as const;
      }),
    );
  }
  if (options.secretsKey) return createKeyring([[DEFAULT_KEY_ID, options.secretsKey]]);
  if (isPostgresUrl(options.databaseUrl)) return null;
  return createKeyring([
    [DEFAULT_KEY_ID, readOrCreateKeyFile(join(options.dataDir, 'secrets.key'))],
  ]);
}
