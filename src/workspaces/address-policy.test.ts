import { describe, expect, it } from 'vitest';
import { PUBLIC_ADDRESSES, REFUSED_RANGES } from '../../test/helpers/address-ranges.js';
import {
  addressRefusal,
  AddressRefusedError,
  isForbiddenAddress,
  resolvePublicAddresses,
} from './address-policy.js';

describe('outbound address policy', () => {
  for (const { cidr, samples } of REFUSED_RANGES) {
    it(`refuses ${cidr}`, () => {
      for (const a of samples) expect(addressRefusal(a), a).toEqual(expect.any(String));
    });
  }

  it('lets public unicast addresses through, in every spelling', () => {
    for (const a of PUBLIC_ADDRESSES) expect(addressRefusal(a), a).toBeUndefined();
  });

  it('refuses what is not an IP address', () => {
    for (const a of ['', 'localhost', '127.1', '1.2.3.4.5', '::g']) {
      expect(isForbiddenAddress(a), a).toBe(true);
    }
  });

  it('names the range, and the IPv4 address an IPv6 form carries', () => {
    expect(addressRefusal('169.254.169.254')).toBe('link-local (cloud metadata) (169.254.0.0/16)');
    expect(addressRefusal('::ffff:a9fe:a9fe')).toBe(
      'IPv4-mapped form of 169.254.169.254, link-local (cloud metadata) (169.254.0.0/16)',
    );
    expect(addressRefusal('2002:a00:1::')).toBe('6to4 form of 10.0.0.1, private (10.0.0.0/8)');
    expect(addressRefusal('fd00::1')).toBe('unique-local (fc00::/7)');
  });
});

describe('resolvePublicAddresses', () => {
  const resolveTo =
    (...addresses: string[]) =>
    async () =>
      addresses;
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (err instanceof AddressRefusedError ? err.message : `other: ${err}`),
    );

  it('returns every address of a name that resolves to public ones only', async () => {
    expect(await resolvePublicAddresses('a.example', resolveTo('8.8.8.8', '2606:4700::1'))).toEqual(
      ['8.8.8.8', '2606:4700::1'],
    );
  });

  it('checks literals without resolving them, brackets or not', async () => {
    const never = async (): Promise<string[]> => {
      throw new Error('a literal must not be resolved');
    };
    expect(await resolvePublicAddresses('[2606:4700::1]', never)).toEqual(['2606:4700::1']);
    expect(await refusal(resolvePublicAddresses('[::ffff:7f00:1]', never))).toMatch(/loopback/);
    expect(await refusal(resolvePublicAddresses('10.0.0.1', never))).toMatch(/private/);
  });

  it('refuses a name with one bad address, no address, or no answer, saying the same', async () => {
    const failing = async (): Promise<string[]> => {
      throw new Error('ENOTFOUND');
    };
    const messages = [
      await refusal(resolvePublicAddresses('h.example', resolveTo('8.8.8.8', '10.0.0.1'))),
      await refusal(resolvePublicAddresses('h.example', resolveTo())),
      await refusal(resolvePublicAddresses('h.example', failing)),
    ];
    // The client must not learn whether an internal name exists, nor its address.
    expect(new Set(messages)).toEqual(
      new Set(['h.example does not resolve to public addresses only']),
    );
  });

  it('uses the system resolver by default: localhost is loopback', async () => {
    expect(await refusal(resolvePublicAddresses('localhost'))).toMatch(/does not resolve/);
  });
});
