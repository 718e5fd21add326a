import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { REFUSED_RANGES } from '../../test/helpers/address-ranges.js';
import { AddressRefusedError } from '../workspaces/index.js';
import { assertSafeCallbackUrl, postCallback } from './callback-target.js';

const resolveTo =
  (...addresses: string[]) =>
  async () =>
    addresses;
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

/** A literal URL for an address, or undefined when URLs cannot spell it (an IPv6 zone). */
const literalUrl = (a: string): string | undefined => {
  const url = `http://${a.includes(':') ? `[${a}]` : a}:8080/hook`;
  return URL.canParse(url) ? url : undefined;
};

describe('callback URL check at run creation', () => {
  for (const { cidr, samples } of REFUSED_RANGES) {
    it(`refuses ${cidr}, as a literal and as what a name resolves to`, async () => {
      for (const a of samples) {
        const literal = literalUrl(a);
        if (literal) {
          expect(await code(assertSafeCallbackUrl(literal)), literal).toBe(
            'CALLBACK_URL_FORBIDDEN',
          );
        }
        const byName = assertSafeCallbackUrl('https://hooks.example/x', { resolve: resolveTo(a) });
        expect(await code(byName), a).toBe('CALLBACK_URL_FORBIDDEN');
      }
    });
  }

  it('accepts public http and https targets', async () => {
    for (const u of ['http://hooks.example/x', 'https://hooks.example:8443/x?a=1']) {
      expect(await code(assertSafeCallbackUrl(u, { resolve: resolveTo('8.8.8.8') })), u).toBe('ok');
    }
    expect(await code(assertSafeCallbackUrl('https://[2606:4700::1111]/x'))).toBe('ok');
  });

  it('tells a malformed URL from a forbidden one', async () => {
    for (const u of ['not a url', 'ftp://example.com/x', 'file:///etc/passwd', 'gopher://x/']) {
      expect(await code(assertSafeCallbackUrl(u)), u).toBe('CALLBACK_URL_INVALID');
    }
    const creds = assertSafeCallbackUrl('https://user:secret@hooks.example/x', {
      resolve: resolveTo('8.8.8.8'),
    });
    expect(await code(creds)).toBe('CALLBACK_URL_FORBIDDEN');
    const unresolvable = async (): Promise<string[]> => {
      throw new Error('ENOTFOUND');
    };
    expect(
      await code(assertSafeCallbackUrl('https://nowhere.invalid/x', { resolve: unresolvable })),
    ).toBe('CALLBACK_URL_FORBIDDEN');
  });

  it('allows private targets only when told to, never credentials', async () => {
    expect(await code(assertSafeCallbackUrl('http://127.0.0.1:9/x', { allowPrivate: true }))).toBe(
      'ok',
    );
    expect(await code(assertSafeCallbackUrl('http://localhost:9/x', { allowPrivate: true }))).toBe(
      'ok',
    );
    expect(
      await code(assertSafeCallbackUrl('http://u:p@127.0.0.1:9/x', { allowPrivate: true })),
    ).toBe('CALLBACK_URL_FORBIDDEN');
  });
});

describe('callback delivery', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  /** A loopback receiver answering 204 and counting connections, not just requests. */
  async function receiver(status = 204, location = 'http://127.0.0.1:9/') {
    const seen = { connections: 0, requests: 0, body: '' };
    const server = createServer((req, res) => {
      seen.requests++;
      req.setEncoding('utf8').on('data', (c: string) => (seen.body += c));
      req.on('end', () => res.writeHead(status, { location }).end());
    });
    server.on('connection', () => seen.connections++);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as { port: number }).port, seen };
  }

  const post = (url: string, allowPrivate: boolean) =>
    postCallback(url, { headers: {}, body: '{"a":1}', timeoutMs: 5000, allowPrivate });

  it('never connects to a refused literal address', async () => {
    const { port, seen } = await receiver();
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
      await expect(post(`http://${host}:${port}/hook`, false), host).rejects.toBeInstanceOf(
        AddressRefusedError,
      );
    }
    expect(seen.connections).toBe(0);
  });

  it('refuses, at connect time, a name that resolves to a refused address', async () => {
    const { port, seen } = await receiver();
    const err = await post(`http://localhost:${port}/hook`, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AddressRefusedError);
    expect((err as Error).message).toBe('localhost does not resolve to public addresses only');
    expect(seen.connections).toBe(0);
  });

  it('delivers when private targets are allowed, and does not follow a redirect', async () => {
    const target = await receiver();
    const { port, seen } = await receiver(302, `http://127.0.0.1:${target.port}/elsewhere`);
    expect(await post(`http://localhost:${port}/hook`, true)).toBe(302);
    expect(seen).toEqual({ connections: 1, requests: 1, body: '{"a":1}' });
    expect(target.seen.connections).toBe(0);
  });
});
