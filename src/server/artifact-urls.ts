import { createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { PatchbayError } from '../contracts/index.js';
import { readOrCreateKeyFile } from '../store/index.js';

/** Where signed artifact URLs live: outside `/v1/artifacts`, because they carry no token. */
export const SIGNED_ARTIFACT_PREFIX = '/v1/signed/artifacts/';

/**
 * The key signed artifact URLs are made with: PATCHBAY_ARTIFACT_URL_SECRET, else a random key
 * kept in the data dir (created on first use, mode 0600), so API nodes sharing a data dir (and
 * a restart) accept each other's URLs.
 */
export function artifactUrlKey(secret: string | undefined, dataDir: string): Buffer {
  if (secret) return Buffer.from(secret);
  return readOrCreateKeyFile(join(dataDir, 'artifact-url.key'));
}

const signature = (key: Buffer, id: string, expires: number): string =>
  createHmac('sha256', key).update(`artifact\n${id}\n${expires}`).digest('hex');

/** `<prefix><id>?expires=<unix s>&sig=<hex>`, valid until `expires`. */
export function signArtifactUrl(key: Buffer, id: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${SIGNED_ARTIFACT_PREFIX}${encodeURIComponent(id)}?expires=${expires}&sig=${signature(key, id, expires)}`;
}

/** @throws PatchbayError ARTIFACT_URL_INVALID when expired or not signed with `key`. */
export function verifyArtifactUrl(
  key: Buffer,
  id: string,
  expires: string | undefined,
  sig: string | undefined,
  now = Date.now(),
): void {
  const at = Number(expires);
  if (!Number.isInteger(at) || !sig || !/^[0-9a-f]{64}$/.test(sig)) {
    throw new PatchbayError('ARTIFACT_URL_INVALID', 'the URL lacks a valid expires and sig');
  }
  const expected = Buffer.from(signature(key, id, at), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) {
    throw new PatchbayError('ARTIFACT_URL_INVALID', 'the signature does not match');
  }
  if (at * 1000 < now) {
    throw new PatchbayError('ARTIFACT_URL_INVALID', 'the URL has expired', {
      expiredAt: new Date(at * 1000).toISOString(),
    });
  }
}

/**
 * Artifacts are addressed by id only; an id that looks like a path is an attack or a bug.
 * @throws PatchbayError ARTIFACT_PATH_INVALID
 */
export function assertArtifactId(id: string): void {
  if (id.includes('..') || id.includes('\0') || id.includes('/') || id.includes('\\')) {
    throw new PatchbayError(
      'ARTIFACT_PATH_INVALID',
      'artifact ids contain no `..`, `/`, `\\` or NUL',
      {
        id: id.replace(/\0/g, '\\0'),
      },
    );
  }
}
