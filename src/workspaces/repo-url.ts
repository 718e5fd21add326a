import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { PatchbayError } from '../contracts/index.js';

/** Loopback, private, link-local and unique-local ranges a repository URL may not reach. */
const forbidden = new BlockList();
forbidden.addSubnet('0.0.0.0', 8, 'ipv4');
forbidden.addSubnet('127.0.0.0', 8, 'ipv4');
forbidden.addSubnet('10.0.0.0', 8, 'ipv4');
forbidden.addSubnet('172.16.0.0', 12, 'ipv4');
forbidden.addSubnet('192.168.0.0', 16, 'ipv4');
forbidden.addSubnet('169.254.0.0', 16, 'ipv4');
forbidden.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT: private in practice
forbidden.addAddress('::', 'ipv6');
forbidden.addAddress('::1', 'ipv6');
forbidden.addSubnet('fc00::', 7, 'ipv6');
forbidden.addSubnet('fe80::', 10, 'ipv6');

/** True for an address in a loopback, private, link-local or unique-local range. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address in disguise.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return forbidden.check(mapped[1]!, 'ipv4');
    return forbidden.check(address, 'ipv6');
  }
  return forbidden.check(address, 'ipv4');
}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Checks a repository URL before anything is cloned: `https://` only, no credentials in the
 * URL, and every address the host resolves to must be public (a name that resolves to
 * 127.0.0.1 is refused like the address itself). `allowPrivate` lifts the address check.
 *
 * @throws PatchbayError REPO_URL_FORBIDDEN
 */
export async function assertSafeRepoUrl(
  raw: string,
  options: { allowPrivate?: boolean; resolve?: Resolver } = {},
): Promise<URL> {
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
  if (options.allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(host);
    } catch {
      return refuse('the host name does not resolve');
    }
  }
  if (addresses.length === 0) refuse('the host name does not resolve');
  const bad = addresses.find(isForbiddenAddress);
  if (bad) refuse(`it resolves to ${bad}, a loopback, private or link-local address`);
  return url;
}
