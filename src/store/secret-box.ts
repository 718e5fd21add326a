import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isPostgresUrl } from './db.js';

/**
 * Secrets at rest (a run's `env` values): AES-256-GCM, each value sealed on its own so the
 * keys stay readable (`envKeys`) and one value that cannot be opened spoils nothing else.
 * The key never lives in the database: PATCHBAY_SECRETS_KEY, else a key file in the data dir
 * (mode 0600; hidden from sandboxed runs with the rest of the data dir).
 */
export interface SecretBox {
  /** Whether values are sealed (false: stored as given, e.g. PostgreSQL without a key). */
  readonly sealing: boolean;
  seal(value: string): string;
  /** A sealed value opened, a plain one as is; UNREADABLE_SECRET when the key does not fit. */
  open(stored: string): string;
}

const PREFIX = 'pbenc:v1:';

/**
 * What `open` gives for a value sealed with another key (or with a key this process lacks):
 * a run whose env holds it must not start (see the engine), but it can still be listed.
 */
export const UNREADABLE_SECRET = '\u0000patchbay:unreadable-secret';

/** Stores values as given: for tests and for stores shared without a configured key. */
export const plainSecretBox: SecretBox = {
  sealing: false,
  seal: (value) => value,
  open: (stored) => (stored.startsWith(PREFIX) ? UNREADABLE_SECRET : stored),
};

/**
 * AES-256-GCM of `value` under `key` (32 bytes), a fresh 12-byte IV each time, `aad` (when
 * given) bound into the tag: base64url of IV ‖ tag ‖ ciphertext.
 */
export function gcmSeal(key: Buffer, value: string, aad?: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** What gcmSeal made, opened. Throws when the key, the AAD or a single byte differs. */
export function gcmOpen(key: Buffer, sealed: string, aad?: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 28) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('a secrets key is 32 bytes');
  return {
    sealing: true,
    seal(value) {
      return PREFIX + gcmSeal(key, value);
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      try {
        return gcmOpen(key, stored.slice(PREFIX.length));
      } catch {
        return UNREADABLE_SECRET;
      }
    },
  };
}

/**
 * A random 32-byte key kept in `file` (hex, mode 0600), created on first use. When several
 * processes race, the first key written wins and all of them read it back.
 */
export function readOrCreateKeyFile(file: string): Buffer {
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  } catch {
    mkdirSync(dirname(file), { recursive: true });
    // Written whole under another name, then linked into place: a process starting at the same
    // moment sees either no key file or a complete one (never the empty file `wx` leaves
    // between its create and its write), and the first link wins.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, file);
    } catch {
      // linked by another process meanwhile: its key is the key
    } finally {
      rmSync(tmp, { force: true });
    }
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  }
}

/**
 * The box this installation seals secrets with: PATCHBAY_SECRETS_KEY (any string, hashed to a
 * key) wherever it is set; else, for SQLite, the key file `<dataDir>/secrets.key`. A shared
 * PostgreSQL store without the setting stores values as given: processes on other machines
 * could not read a key file here (the server warns at start).
 */
export function secretBoxFor(options: {
  secretsKey: string | undefined;
  dataDir: string;
  databaseUrl: string;
}): SecretBox {
  if (options.secretsKey) {
    return createSecretBox(createHash('sha256').update(options.secretsKey).digest());
  }
  if (isPostgresUrl(options.databaseUrl)) return plainSecretBox;
  return createSecretBox(readOrCreateKeyFile(join(options.dataDir, 'secrets.key')));
}

/** A run's env with every value sealed. */
export function sealEnv(box: SecretBox, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, box.seal(v)]));
}

/** A stored env with every value opened (UNREADABLE_SECRET where the key does not fit). */
export function openEnv(box: SecretBox, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, box.open(v)]));
}
