import { describe, expect, it } from 'vitest';
import { assertSafeRepoUrl, isForbiddenAddress } from './repo-url.js';

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
  it('classifies addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fc00::1',
      'fd12::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
      'not-an-ip',
    ]) {
      expect(isForbiddenAddress(a), a).toBe(true);
    }
    for (const a of [
      '140.82.112.3',
      '172.32.0.1',
      '8.8.8.8',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
    ]) {
      expect(isForbiddenAddress(a), a).toBe(false);
    }
  });

  it('accepts a public https URL', async () => {
    const url = await assertSafeRepoUrl('https://github.com/acme/app.git', {
      resolve: resolveTo('140.82.112.3'),
    });
    expect(url.hostname).toBe('github.com');
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
