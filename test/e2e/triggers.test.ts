/**
 * Generic triggers end to end: a real `patchbay serve` with API tokens, deliveries signed by
 * the reference Standard Webhooks library (`standardwebhooks`) and sent without a bearer
 * token, and Standard Webhooks callbacks verified by that library in a receiver on loopback.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, waitFor, type Json, type ServerHandle } from './helpers.js';

const TOKEN = 'e2e-triggers-token';
const CALLBACK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({
    token: TOKEN,
    env: {
      PATCHBAY_API_TOKENS: TOKEN,
      PATCHBAY_WEBHOOK_SECRET: CALLBACK_SECRET,
      PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1',
      PATCHBAY_CALLBACK_BACKOFF_MS: '50',
    },
  });
});
afterAll(cleanupAll);

/** A shell trigger whose run prints the payload's issue title (handed over in env). */
const echoTitle = {
  agent: 'shell',
  command: ['sh', '-c', 'printf "title=%s" "$TITLE"'],
  env: { TITLE: '{{payload.issue.title}}', STATIC: 'kept-secret' },
};

async function createTrigger(run: Json = echoTitle, name = 'issues') {
  const res = await server.api.request('POST', '/v1/triggers', { name, run });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; secret: string; fireUrl: string };
}

/** POSTs a delivery with no bearer token, as a webhook sender does. */
async function fire(id: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${server.url}/v1/triggers/${id}/fire`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Json };
}

function signed(
  secret: string,
  body: string,
  id = `msg_${randomBytes(8).toString('hex')}`,
  at = new Date(),
) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

describe.concurrent('generic triggers', () => {
  it('creates, lists, reads, changes and deletes triggers; the secret is shown once', async () => {
    const t = await createTrigger();
    expect(t.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(t.fireUrl).toBe(`/v1/triggers/${t.id}/fire`);
    const got = await server.api.request('GET', `/v1/triggers/${t.id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(got.body.run.env).toEqual({ TITLE: '[redacted]', STATIC: '[redacted]' });
    expect(got.body.deliveries).toEqual([]);
    const list = await server.api.request('GET', '/v1/triggers');
    expect(list.body.triggers.map((x: Json) => x.id)).toContain(t.id);
    expect(JSON.stringify(list.body)).not.toContain(t.secret);

    const renamed = await server.api.request('PATCH', `/v1/triggers/${t.id}`, { name: 'renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('renamed');
    expect(renamed.body.secret).toBeUndefined();

    const rotated = await server.api.request('PATCH', `/v1/triggers/${t.id}`, {
      rotateSecret: true,
    });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(t.secret);
    const body = JSON.stringify({ issue: { title: 'x' } });
    const old = await fire(t.id, body, signed(t.secret, body));
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('TRIGGER_SIGNATURE_INVALID');
    expect((await fire(t.id, body, signed(rotated.body.secret, body))).status).toBe(202);
    await server.api.request('PATCH', `/v1/triggers/${t.id}`, { enabled: false });
    const disabled = await fire(t.id, body, signed(rotated.body.secret, body));
    expect([disabled.status, disabled.body.error.code]).toEqual([409, 'TRIGGER_DISABLED']);

    const del = await server.api.request('DELETE', `/v1/triggers/${t.id}`);
    expect(del.status).toBe(204);
    expect((await server.api.request('GET', `/v1/triggers/${t.id}`)).body.error.code).toBe(
      'TRIGGER_NOT_FOUND',
    );
    // The CRUD routes are bearer-protected like every other.
    const anonymous = await fetch(`${server.url}/v1/triggers`);
    expect(anonymous.status).toBe(401);
  });

  it('refuses templates with placeholders outside prompt, model, ref and env', async () => {
    const res = await server.api.request('POST', '/v1/triggers', {
      run: { agent: 'shell', command: ['sh', '-c', 'echo {{payload.title}}'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('TRIGGER_TEMPLATE_INVALID');
    expect(res.body.error.details.fields[0].path).toBe('run.command.2');
  });

  it('fires a run from a signed delivery, mapping the payload, without a bearer token', async () => {
    const t = await createTrigger();
    const body = JSON.stringify({ issue: { title: 'Crash on start', number: 7 } });
    const headers = signed(t.secret, body);
    const res = await fire(t.id, body, headers);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ triggerId: t.id, webhookId: headers['webhook-id'] });
    const run = await server.api.waitForStatus(res.body.runId);
    expect(run.status).toBe('succeeded');
    expect(run.triggerId).toBe(t.id);
    expect(await server.api.output(run.id)).toBe('title=Crash on start');
    const byTrigger = await server.api.request('GET', `/v1/runs?triggerId=${t.id}`);
    expect(byTrigger.body.runs.map((r: Json) => r.id)).toEqual([run.id]);

    // The same delivery again (a replay, or a resend of one already accepted): no second run.
    const again = await fire(t.id, body, headers);
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('TRIGGER_WEBHOOK_REPLAYED');
    // Re-signed now, under the same webhook-id: still the same message.
    const resigned = await fire(t.id, body, signed(t.secret, body, headers['webhook-id']));
    expect(resigned.body.error.code).toBe('TRIGGER_WEBHOOK_REPLAYED');
    const got = await server.api.request('GET', `/v1/triggers/${t.id}`);
    expect(got.body.deliveries).toMatchObject([
      { webhookId: headers['webhook-id'], outcome: 'started', runId: run.id },
    ]);
    expect((await server.api.request('GET', `/v1/runs?triggerId=${t.id}`)).body.runs).toHaveLength(
      1,
    );
  });

  it('refuses missing, wrong, tampered and expired signatures with distinct codes', async () => {
    const t = await createTrigger();
    const body = JSON.stringify({ issue: { title: 'x' } });
    const good = signed(t.secret, body);
    const cases: [string, string, Record<string, string>, number, string][] = [
      ['no headers', body, {}, 401, 'TRIGGER_SIGNATURE_MISSING'],
      [
        'no signature',
        body,
        { ...good, 'webhook-signature': '' },
        401,
        'TRIGGER_SIGNATURE_MISSING',
      ],
      [
        'another key',
        body,
        signed(`whsec_${randomBytes(32).toString('base64')}`, body),
        401,
        'TRIGGER_SIGNATURE_INVALID',
      ],
      ['tampered body', body.replace('x', 'y'), good, 401, 'TRIGGER_SIGNATURE_INVALID'],
      [
        'garbage',
        body,
        { ...good, 'webhook-signature': 'v1,AAAA v2,BBBB' },
        401,
        'TRIGGER_SIGNATURE_INVALID',
      ],
      [
        'expired',
        body,
        signed(t.secret, body, 'msg_old', new Date(Date.now() - 6 * 60_000)),
        401,
        'TRIGGER_TIMESTAMP_EXPIRED',
      ],
      [
        'from the future',
        body,
        signed(t.secret, body, 'msg_new', new Date(Date.now() + 6 * 60_000)),
        401,
        'TRIGGER_TIMESTAMP_EXPIRED',
      ],
    ];
    for (const [what, payload, headers, status, code] of cases) {
      const res = await fire(t.id, payload, headers);
      expect([what, res.status, res.body.error?.code]).toEqual([what, status, code]);
    }
    const unknown = await fire('trg_nope', body, good);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'TRIGGER_NOT_FOUND']);
    // Several signatures, one of them right (a sender rotating its key): accepted.
    const rotating = {
      ...good,
      'webhook-signature': `${signed(`whsec_${randomBytes(32).toString('base64')}`, body, good['webhook-id'])['webhook-signature']} ${good['webhook-signature']}`,
    };
    expect((await fire(t.id, body, rotating)).status).toBe(202);
    expect((await server.api.request('GET', `/v1/runs?triggerId=${t.id}`)).body.runs).toHaveLength(
      1,
    );
  });

  it('answers 422 when the payload maps to an invalid run, and lets a resend try again', async () => {
    const t = await createTrigger({
      agent: 'shell',
      command: ['true'],
      model: '{{payload.model}}',
    });
    const body = JSON.stringify({ nothing: 'here' });
    const headers = signed(t.secret, body);
    const res = await fire(t.id, body, headers);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('TRIGGER_RUN_INVALID');
    expect(res.body.error.details.fields[0].path).toBe('model');
    // Refused deliveries started nothing: the same webhook-id is not held against a resend.
    const resend = await fire(t.id, body, headers);
    expect(resend.body.error.code).toBe('TRIGGER_RUN_INVALID');
    const got = await server.api.request('GET', `/v1/triggers/${t.id}`);
    expect(got.body.deliveries).toMatchObject([
      { outcome: 'refused', error: { code: 'TRIGGER_RUN_INVALID' } },
    ]);
  });

  it('signs callbacks with Standard Webhooks when asked, verified by the reference library', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(received.length === 1 ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const { port } = receiver.address() as { port: number };
    try {
      // Through a trigger: its template asks for the format.
      const t = await createTrigger({
        ...echoTitle,
        callbackUrl: `http://127.0.0.1:${port}/hook`,
        callbackFormat: 'standard-webhooks',
      });
      const body = JSON.stringify({ issue: { title: 'callback me' } });
      const fired = await fire(t.id, body, signed(t.secret, body));
      expect(fired.status).toBe(202);
      const run = await server.api.waitForStatus(fired.body.runId);
      await waitFor(() => received.length >= 2, 'a retried callback', 15_000);
      const verifier = new Webhook(CALLBACK_SECRET);
      for (const r of received) {
        const payload = verifier.verify(r.body, r.headers as Record<string, string>) as Json;
        expect(payload.id).toBe(run.id);
        expect(payload.callbackFormat).toBe('standard-webhooks');
        expect(r.headers['x-patchbay-signature']).toBeUndefined();
        expect(() =>
          new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
            r.body,
            r.headers as Record<string, string>,
          ),
        ).toThrow();
      }
      // One message, two attempts: the same webhook-id, so the receiver can dedupe.
      expect(received[0]!.headers['webhook-id']).toBe(received[1]!.headers['webhook-id']);
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });
});

describe('standard-webhooks callbacks without a secret', () => {
  it('are refused when the run is created', async () => {
    const bare = await startServer();
    const res = await bare.api.request('POST', '/v1/runs', {
      command: ['true'],
      callbackUrl: 'https://example.com/hook',
      callbackFormat: 'standard-webhooks',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('CALLBACK_SECRET_MISSING');
  });
});
