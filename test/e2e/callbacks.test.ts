import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cleanupAll, sleep, startServer, waitFor, type ServerHandle } from './helpers.js';

const SECRET = 'whsec_e2e_callbacks';
const MAX_ATTEMPTS = 3;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local callback receiver answering `statuses[i]` to the i-th POST (the last one after). */
async function startReceiver(statuses: number[]): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook?source=patchbay`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function verifySignature(
  secret: string,
  body: string,
  header: string | string[] | undefined,
): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const given = String(header ?? '');
  return (
    given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  );
}

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({
    env: {
      PATCHBAY_WEBHOOK_SECRET: SECRET,
      PATCHBAY_CALLBACK_BACKOFF_MS: '50',
      PATCHBAY_CALLBACK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      PATCHBAY_CALLBACK_TIMEOUT_MS: '2000',
      // The receivers listen on 127.0.0.1, which callbacks may reach only when allowed.
      PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1',
    },
  });
});
afterAll(cleanupAll);

describe.concurrent('run callbacks', () => {
  it('retries 5xx with backoff and delivers the same signed body each time', async ({
    expect,
    onTestFinished,
  }) => {
    const receiver = await startReceiver([500, 500, 200]);
    onTestFinished(() => receiver.close());
    const run = await server.api.createRun({
      command: ['sh', '-c', 'echo callback-me'],
      callbackUrl: receiver.url,
    });
    const finished = await server.api.waitForStatus(run.id);
    expect(finished.status).toBe('succeeded');

    await waitFor(() => receiver.received.length >= 3, '3 callback attempts', 10_000);
    await sleep(300); // a 4th attempt after a 200 would be a bug
    expect(receiver.received).toHaveLength(3);

    const bodies = receiver.received.map((r) => r.body);
    expect(new Set(bodies).size).toBe(1);
    const payload = JSON.parse(bodies[0]!);
    expect(payload).toEqual(finished);
    expect(payload.status).toBe('succeeded');
    expect(payload.callbackUrl).toBe(receiver.url);

    receiver.received.forEach((r, i) => {
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['x-patchbay-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifySignature(SECRET, r.body, r.headers['x-patchbay-signature'])).toBe(true);
      expect(verifySignature('wrong-secret', r.body, r.headers['x-patchbay-signature'])).toBe(
        false,
      );
      expect(r.headers['x-patchbay-run-id']).toBe(run.id);
      expect(r.headers['x-patchbay-attempt']).toBe(String(i + 1));
    });
    // Backoff: each retry waits at least ~backoff (50 ms, then 100 ms, with ±20% jitter).
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(35);
    expect(receiver.received[2]!.at - receiver.received[1]!.at).toBeGreaterThanOrEqual(75);

    // The last attempt is recorded after the receiver answered: wait for the record.
    let deliveries = await server.api.request('GET', `/v1/runs/${run.id}/deliveries`);
    for (let i = 0; i < 100 && deliveries.body.deliveries.length < 3; i++) {
      await sleep(20);
      deliveries = await server.api.request('GET', `/v1/runs/${run.id}/deliveries`);
    }
    expect(deliveries.status).toBe(200);
    expect(
      deliveries.body.deliveries.map(
        (d: { attempt: number; outcome: string; httpStatus: number }) => [
          d.attempt,
          d.outcome,
          d.httpStatus,
        ],
      ),
    ).toEqual([
      [1, 'retrying', 500],
      [2, 'retrying', 500],
      [3, 'delivered', 200],
    ]);
  });

  it('gives up after exactly PATCHBAY_CALLBACK_MAX_ATTEMPTS when the receiver always fails', async ({
    expect,
    onTestFinished,
  }) => {
    const receiver = await startReceiver([503]);
    onTestFinished(() => receiver.close());
    const run = await server.api.createRun({
      command: ['sh', '-c', 'exit 5'],
      callbackUrl: receiver.url,
    });
    const finished = await server.api.waitForStatus(run.id);
    expect(finished.status).toBe('failed');

    await waitFor(
      () => receiver.received.length >= MAX_ATTEMPTS,
      `${MAX_ATTEMPTS} attempts`,
      10_000,
    );
    // Longer than the next backoff would be (50 * 2^3 * 1.2 = 480 ms): no extra attempt comes.
    await sleep(700);
    expect(receiver.received).toHaveLength(MAX_ATTEMPTS);
    const payload = JSON.parse(receiver.received[0]!.body);
    expect(payload).toMatchObject({ id: run.id, status: 'failed', exitCode: 5 });
    const deliveries = await server.api.request('GET', `/v1/runs/${run.id}/deliveries`);
    const outcomes = deliveries.body.deliveries.map((d: { outcome: string }) => d.outcome);
    expect(outcomes).toEqual([...Array(MAX_ATTEMPTS - 1).fill('retrying'), 'failed']);
  });

  it('does not retry a 4xx answer (the receiver refused it for good)', async ({
    expect,
    onTestFinished,
  }) => {
    const receiver = await startReceiver([404]);
    onTestFinished(() => receiver.close());
    const run = await server.api.createRun({ command: ['true'], callbackUrl: receiver.url });
    await server.api.waitForStatus(run.id);
    await waitFor(() => receiver.received.length >= 1, 'the first attempt', 10_000);
    await sleep(400);
    expect(receiver.received).toHaveLength(1);
  });

  it('refuses a callbackUrl that is not an absolute http(s) URL', async ({ expect }) => {
    for (const callbackUrl of ['not a url', 'ftp://example.com/x', 'file:///etc/passwd']) {
      const res = await server.api.request('POST', '/v1/runs', { command: ['true'], callbackUrl });
      expect(res.status, callbackUrl).toBe(400);
      expect(res.body.error.code, callbackUrl).toBe('CALLBACK_URL_INVALID');
    }
  });
});
