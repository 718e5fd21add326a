import { createHash, timingSafeEqual } from 'node:crypto';
import { PatchbayError } from '../contracts/index.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens in constant time
 * (hashing first makes lengths equal). Returns the matching token's fingerprint, used as
 * the rate-limit key, so the token itself is never kept around.
 */
export function createTokenChecker(tokens: string[]) {
  const digests = tokens.map(digest);
  return {
    enabled: tokens.length > 0,
    /** @throws PatchbayError UNAUTHORIZED */
    check(authorization: string | undefined): string {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match) throw new PatchbayError('UNAUTHORIZED');
      const given = digest(match[1]!);
      const ok = digests.some((d) => timingSafeEqual(d, given));
      if (!ok) throw new PatchbayError('UNAUTHORIZED', 'The bearer token is not valid.');
      return `token:${given.subarray(0, 8).toString('hex')}`;
    },
  };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** @throws PatchbayError SERVER_UNSAFE_BIND */
export function assertSafeBind(host: string, tokens: string[]): void {
  if (!isLoopbackHost(host) && tokens.length === 0) {
    throw new PatchbayError(
      'SERVER_UNSAFE_BIND',
      `refusing to listen on ${host} without PATCHBAY_API_TOKENS: anyone who can reach it could run commands`,
      { host },
    );
  }
}
