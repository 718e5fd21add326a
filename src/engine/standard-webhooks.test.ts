import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isPatchbayError } from '../contracts/index.js';
import {
  newWebhookSecret,
  signingKey,
  standardWebhookHeaders,
  verifyStandardWebhook,
} from './standard-webhooks.js';

const body = JSON.stringify({ issue: { title: 'Fix the build' } });
const TOLERANCE = { toleranceMs: 300_000 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPatchbayError(err) ? err.code : `not a PatchbayError: ${String(err)}`;
  }
  return undefined;
}

describe('standard webhooks', () => {
  it('signs as the reference library verifies, and verifies what it signs', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const reference = new Webhook(secret);
    const ours = standardWebhookHeaders(signingKey(secret), 'msg_1', body);
    expect(reference.verify(body, ours)).toEqual(JSON.parse(body));

    const now = new Date();
    const theirs = {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': reference.sign('msg_2', now, body),
    };
    expect(verifyStandardWebhook(signingKey(secret), theirs, Buffer.from(body), TOLERANCE)).toEqual(
      { id: 'msg_2', timestamp: Number(theirs['webhook-timestamp']) },
    );
  });

  it('uses a secret that is not whsec_ base64 as raw bytes, like the library’s raw format', () => {
    const secret = 'whsec_e2e_callbacks';
    const headers = standardWebhookHeaders(signingKey(secret), 'm', body);
    expect(new Webhook(secret, { format: 'raw' }).verify(body, headers)).toBeTruthy();
  });

  it('accepts any one of several signatures and skips other versions', () => {
    const secret = newWebhookSecret();
    const good = standardWebhookHeaders(signingKey(secret), 'm', body);
    const other = standardWebhookHeaders(signingKey(newWebhookSecret()), 'm', body);
    const headers = {
      ...good,
      'webhook-signature': `v1a,AAAA ${other['webhook-signature']} ${good['webhook-signature']}`,
    };
    expect(
      verifyStandardWebhook(signingKey(secret), headers, Buffer.from(body), TOLERANCE).id,
    ).toBe('m');
  });

  it('refuses missing headers, wrong signatures and stale or future timestamps with distinct codes', () => {
    const secret = newWebhookSecret();
    const key = signingKey(secret);
    const good = standardWebhookHeaders(key, 'm', body);
    const verify = (headers: Record<string, string>, payload = body) =>
      codeOf(() => verifyStandardWebhook(key, headers, Buffer.from(payload), TOLERANCE));
    expect(verify({ ...good, 'webhook-signature': '' })).toBe('TRIGGER_SIGNATURE_MISSING');
    expect(verify({ 'webhook-id': 'm' })).toBe('TRIGGER_SIGNATURE_MISSING');
    expect(verify(good, `${body} `)).toBe('TRIGGER_SIGNATURE_INVALID');
    expect(verify({ ...good, 'webhook-id': 'other' })).toBe('TRIGGER_SIGNATURE_INVALID');
    const wrongKey = standardWebhookHeaders(signingKey(newWebhookSecret()), 'm', body);
    expect(verify(wrongKey)).toBe('TRIGGER_SIGNATURE_INVALID');
    expect(verify({ ...good, 'webhook-timestamp': 'soon' })).toBe('TRIGGER_SIGNATURE_INVALID');
    const old = Math.floor(Date.now() / 1000) - 301;
    expect(verify(standardWebhookHeaders(key, 'm', body, old))).toBe('TRIGGER_TIMESTAMP_EXPIRED');
    const future = Math.floor(Date.now() / 1000) + 301;
    expect(verify(standardWebhookHeaders(key, 'm', body, future))).toBe(
      'TRIGGER_TIMESTAMP_EXPIRED',
    );
    expect(verify(standardWebhookHeaders(key, 'm', body, old + 10))).toBeUndefined();
  });
});
