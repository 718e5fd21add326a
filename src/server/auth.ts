import { createHash, timingSafeEqual } from 'node:crypto';
import { PatchbayError } from '../contracts/index.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Checks `Authorization: Bearer <token>` (or a token given at dashboard login) against the
 * configured tokens in constant time (hashing first makes lengths equal). Returns the matching
 * token's fingerprint, used as the rate-limit key and as a session's identity, so the token
 * itself is never kept around.
 */
export function createTokenChecker(tokens: string[]) {
  const digests = tokens.map(digest);
  const fingerprint = (d: Buffer): string => `token:${d.subarray(0, 8).toString('hex')}`;
  const known = new Set(digests.map(fingerprint));
  /** @throws PatchbayError UNAUTHORIZED */
  const checkToken = (token: string): string => {
    const given = digest(token);
    // Every digest is compared, so the time taken does not say which one (if any) matched.
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) throw new PatchbayError('UNAUTHORIZED', 'The token is not valid.');
    return fingerprint(given);
  };
  return {
    enabled: tokens.length > 0,
    /** @throws PatchbayError UNAUTHORIZED */
    check(authorization: string | undefined): string {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match) throw new PatchbayError('UNAUTHORIZED');
      try {
        return checkToken(match[1]!);
      } catch {
        throw new PatchbayError('UNAUTHORIZED', 'The bearer token is not valid.');
      }
    },
    checkToken,
    /** Whether a fingerprint is one of the current tokens' (a removed token's sessions end). */
    isCurrent(identity: string): boolean {
      return known.has(identity);
    },
  };
}

export type TokenChecker = ReturnType<typeof createTokenChecker>;

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
