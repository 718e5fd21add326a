import { isIP } from 'node:net';
import { PatchbayError } from '../contracts/index.js';
import { AddressRefusedError, resolvePublicAddresses, type Resolver } from './address-policy.js';

/** A repository URL that passed the check, and where git may connect for it. */
export interface CheckedRepoUrl {
  url: URL;
  /**
   * The checked addresses of a host name, for git to use instead of resolving it again
   * (`http.curloptResolve`). Null for an IP literal, and when private addresses are allowed.
   */
  pin: { host: string; port: number; addresses: string[] } | null;
}

/**
 * Checks a repository URL before anything is cloned or fetched: `https://` only, no
 * credentials in the URL, and every address the host resolves to must be public (the
 * address policy, address-policy.ts; a name that resolves to 127.0.0.1 is refused like the
 * address itself). `allowPrivate` lifts the address check.
 *
 * @throws PatchbayError REPO_URL_FORBIDDEN
 */
export async function assertSafeRepoUrl(
  raw: string,
  options: { allowPrivate?: boolean; resolve?: Resolver } = {},
): Promise<CheckedRepoUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PatchbayError('REPO_URL_FORBIDDEN', 'the repository URL is not a valid URL', {
      url: raw,
    });
  }
  const refuse = (why: string): never => {
    throw new PatchbayError('REPO_URL_FORBIDDEN', `refusing ${url.host || raw}: ${why}`, {
      url: raw,
      reason: why,
    });
  };
  if (url.protocol !== 'https:') refuse('only https:// repository URLs are allowed');
  if (url.username || url.password) refuse('credentials in the URL are not accepted');
  if (options.allowPrivate) return { url, pin: null };
  let addresses: string[];
  try {
    addresses = await resolvePublicAddresses(url.hostname, options.resolve);
  } catch (err) {
    if (err instanceof AddressRefusedError) return refuse(err.reason);
    throw err;
  }
  if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) return { url, pin: null };
  return { url, pin: { host: url.hostname, port: Number(url.port || 443), addresses } };
}
