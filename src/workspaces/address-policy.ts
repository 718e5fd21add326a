import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

/**
 * The outbound address policy: which addresses Patchbay connects to when a user names the
 * host (a repository URL to clone or fetch, a run's callback URL). Only public unicast
 * addresses pass. IPv4 is checked against the special-purpose ranges below; IPv6 must be
 * global unicast (2000::/3) outside its special-purpose blocks, and the forms that carry an
 * IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by that address.
 */

interface Range {
  cidr: string;
  name: string;
  bytes: Uint8Array;
  bits: number;
}

function range(cidr: string, name: string): Range {
  const [address, bits] = cidr.split('/') as [string, string];
  return { cidr, name, bytes: addressBytes(address), bits: Number(bits) };
}

const V4_REFUSED: Range[] = [
  range('0.0.0.0/8', '"this network"'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'carrier-grade NAT'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (cloud metadata)'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', '6to4 relay anycast'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved or broadcast'),
];

/** IPv6 forms whose last (or, for 6to4, embedded) 32 bits are the IPv4 address reached. */
const V6_EMBEDDING: { range: Range; offset: number }[] = [
  { range: range('::ffff:0:0/96', 'IPv4-mapped'), offset: 12 },
  { range: range('64:ff9b::/96', 'NAT64'), offset: 12 },
  { range: range('2002::/16', '6to4'), offset: 2 },
];

/** Named for clearer refusals; anything else outside 2000::/3 is refused too. */
const V6_REFUSED: Range[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::/96', 'IPv4-compatible (deprecated)'),
  range('::ffff:0:0:0/96', 'IPv4-translated'),
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  range('fc00::/7', 'unique-local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated)'),
  range('ff00::/8', 'multicast'),
  // Inside 2000::/3:
  range('2001::/32', 'Teredo'),
  range('2001:db8::/32', 'documentation'),
  range('2001::/23', 'IETF protocol assignments'),
  range('3fff::/20', 'documentation'),
];

const GLOBAL_UNICAST = range('2000::/3', 'global unicast');

/** 4 or 16 bytes of an address `isIP` accepts (an IPv6 zone id is ignored). */
function addressBytes(address: string): Uint8Array {
  if (isIP(address) === 4) return Uint8Array.from(address.split('.').map(Number));
  let text = address.split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

function inRange(bytes: Uint8Array, r: Range): boolean {
  if (bytes.length !== r.bytes.length) return false;
  const whole = r.bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== r.bytes[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === (r.bytes[whole]! & mask);
}

function v4Refusal(bytes: Uint8Array): string | undefined {
  const hit = V4_REFUSED.find((r) => inRange(bytes, r));
  return hit && `${hit.name} (${hit.cidr})`;
}

/**
 * Why Patchbay will not connect to `address` (e.g. `link-local (cloud metadata)
 * (169.254.0.0/16)`), or undefined for a public unicast address. Not an IP address: refused.
 */
export function addressRefusal(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const bytes = addressBytes(address);
  if (family === 4) return v4Refusal(bytes);
  for (const { range: r, offset } of V6_EMBEDDING) {
    if (!inRange(bytes, r)) continue;
    const v4 = bytes.subarray(offset, offset + 4);
    const why = v4Refusal(v4);
    return why && `${r.name} form of ${v4.join('.')}, ${why}`;
  }
  const hit = V6_REFUSED.find((r) => inRange(bytes, r));
  if (hit) return `${hit.name} (${hit.cidr})`;
  return inRange(bytes, GLOBAL_UNICAST) ? undefined : 'not global unicast (outside 2000::/3)';
}

/** True for an address Patchbay will not connect to on a user's say-so. */
export function isForbiddenAddress(address: string): boolean {
  return addressRefusal(address) !== undefined;
}

/** The policy said no; `reason` is safe to show the client. */
export class AddressRefusedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AddressRefusedError';
  }
}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Every address `host` (a URL's hostname; an IPv6 literal may keep its brackets) resolves to,
 * all public, or an AddressRefusedError. One bad address is enough to refuse. For a name, the
 * message does not say whether it failed to resolve or resolved to a non-public address, nor
 * which address: the caller must not learn the internal DNS through it.
 */
export async function resolvePublicAddresses(
  host: string,
  resolve: Resolver = systemResolver,
): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    const why = addressRefusal(bare);
    if (why) throw new AddressRefusedError(`${bare} is ${why}, not a public address`);
    return [bare];
  }
  const addresses = await resolve(bare).catch(() => []);
  if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
    throw new AddressRefusedError(`${bare} does not resolve to public addresses only`);
  }
  return addresses;
}

/**
 * A `lookup` for `net`/`http`/`https` connections that resolves once and hands the socket
 * only addresses the policy allows: the check and the connect use the same answer, so a
 * name cannot rebind in between. (An IP literal never reaches a lookup: check it first.)
 *
 * @example https.request(url, { lookup: guardedLookup, agent: false })
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    if (addresses.length === 0 || addresses.some((a) => isForbiddenAddress(a.address))) {
      const refused = new AddressRefusedError(
        `${hostname} does not resolve to public addresses only`,
      );
      return callback(refused as NodeJS.ErrnoException, '', 0);
    }
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};
