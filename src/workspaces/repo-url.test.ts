import { describe, expect, it } from 'vitest';
import { REFUSED_RANGES } from '../../test/helpers/address-ranges.js';
import { assertSafeRepoUrl } from './repo-url.js';

const resolveTo =
  (...addresses: string[]) =>
  async () =>
    addresses;
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

describe('repository URL guard', () => {
  for (const { cidr, samples } of REFUSED_RANGES) {
    it(`refuses ${cidr}, as a literal and as what a name resolves to`, async () => {
      for (const a of samples) {
        const literal = `https://${a.includes(':') ? `[${a.replace('%', '%25')}]` : a}/r.git`;
        if (URL.canParse(literal)) {
          expect(await code(assertSafeRepoUrl(literal)), literal).toBe('REPO_URL_FORBIDDEN');
        }
        const byName = assertSafeRepoUrl('https://git.example/r.git', { resolve: resolveTo(a) });
        expect(await code(byName), a).toBe('REPO_URL_FORBIDDEN');
      }
    });
  }

  it('accepts a public https URL and pins git to the addresses it checked', async () => {
    const checked = await assertSafeRepoUrl('https://github.com/acme/app.git', {
      resolve: resolveTo('140.82.112.3', '2606:50c0::1'),
    });
    expect(checked.url.hostname).toBe('github.com');
    expect(checked.pin).toEqual({
      host: 'github.com',
      port: 443,
      addresses: ['140.82.112.3', '2606:50c0::1'],
    });
    const other = await assertSafeRepoUrl('https://git.example:8443/r.git', {
      resolve: resolveTo('8.8.8.8'),
    });
    expect(other.pin).toEqual({ host: 'git.example', port: 8443, addresses: ['8.8.8.8'] });
  });

  it('pins nothing for a literal address, nor when private addresses are allowed', async () => {
    expect((await assertSafeRepoUrl('https://8.8.8.8/r.git')).pin).toBeNull();
    expect((await assertSafeRepoUrl('https://[2606:4700::1111]/r.git')).pin).toBeNull();
    const allowed = await assertSafeRepoUrl('https://localhost/r.git', { allowPrivate: true });
    expect(allowed.pin).toBeNull();
  });

  it('refuses other schemes and credentials', async () => {
    for (const u of [
      'http://github.com/a/b',
      'file:///etc',
      'git@github.com:a/b.git',
      'ssh://git@github.com/a/b',
      'https://user:tok@github.com/a/b',
    ]) {
      expect(await code(assertSafeRepoUrl(u, { resolve: resolveTo('140.82.112.3') })), u).toBe(
        'REPO_URL_FORBIDDEN',
      );
    }
  });

  it('refuses private and loopback literals, and names that resolve to them', async () => {
    for (const u of [
      'https://127.0.0.1/r.git',
      'https://[::1]/r.git',
      'https://10.0.0.5/r.git',
      'https://169.254.169.254/latest',
    ]) {
      expect(await code(assertSafeRepoUrl(u)), u).toBe('REPO_URL_FORBIDDEN');
    }
    // A public-looking name that resolves to loopback (DNS rebinding style).
    expect(
      await code(
        assertSafeRepoUrl('https://evil.example/r.git', { resolve: resolveTo('127.0.0.1') }),
      ),
    ).toBe('REPO_URL_FORBIDDEN');
    // One bad address among good ones is enough to refuse.
    expect(
      await code(
        assertSafeRepoUrl('https://mixed.example/r.git', {
          resolve: resolveTo('140.82.112.3', '10.0.0.1'),
        }),
      ),
    ).toBe('REPO_URL_FORBIDDEN');
    // The real resolver: localhost is loopback.
    expect(await code(assertSafeRepoUrl('https://localhost/r.git'))).toBe('REPO_URL_FORBIDDEN');
  });

  it('refuses a name that does not resolve', async () => {
    const failing = async (): Promise<string[]> => {
      throw new Error('ENOTFOUND');
    };
    expect(
      await code(assertSafeRepoUrl('https://nowhere.invalid/r.git', { resolve: failing })),
    ).toBe('REPO_URL_FORBIDDEN');
  });

  it('allows private addresses only when told to', async () => {
    expect(
      await code(
        assertSafeRepoUrl('https://git.internal/r.git', {
          allowPrivate: true,
          resolve: resolveTo('10.0.0.2'),
        }),
      ),
    ).toBe('ok');
    expect(await code(assertSafeRepoUrl('http://git.internal/r.git', { allowPrivate: true }))).toBe(
      'REPO_URL_FORBIDDEN',
    );
  });
});
