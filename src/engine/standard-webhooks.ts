import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PatchbayError } from '../contracts/index.js';

/**
 * The Standard Webhooks signing scheme (https://www.standardwebhooks.com), both ways: inbound
 * trigger deliveries are verified with it, and callbacks may be signed with it
 * (`callbackFormat: "standard-webhooks"`). A signature is `v1,` + base64 of
 * HMAC-SHA256(key, `<webhook-id>.<webhook-timestamp>.<body>`); the key is the base64 after a
 * `whsec_` prefix.
 */

const PREFIX = 'whsec_';
/** Longest webhook-id kept (it is stored as the replay guard). */
const MAX_ID_LENGTH = 256;

/** A fresh `whsec_…` secret: 32 random bytes, base64, as Standard Webhooks libraries expect. */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/**
 * The HMAC key of a secret: the base64 after `whsec_` for a secret in that form (what every
 * Standard Webhooks library reads), otherwise the secret's own UTF-8 bytes (the libraries'
 * "raw" format), so any PATCHBAY_WEBHOOK_SECRET can sign.
 */
export function signingKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : null;
  if (b64 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.length % 4 === 0) {
    return Buffer.from(b64, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

function digest(key: Buffer, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The headers of one signed message; `timestampSec` defaults to now. */
export function standardWebhookHeaders(
  key: Buffer,
  id: string,
  body: string | Buffer,
  timestampSec = Math.floor(Date.now() / 1000),
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = String(timestampSec);
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${digest(key, id, timestamp, body).toString('base64')}`,
  };
}

export interface VerifiedWebhook {
  id: string;
  /** Seconds since the epoch, as signed. */
  timestamp: number;
}

const header = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v;

/**
 * Verifies a delivery: every header present, one of the (space-separated) `v1,` signatures
 * matching in constant time, then the timestamp within `toleranceMs` of now either way. The
 * signature is checked before the clock so a caller without the key learns nothing else.
 *
 * @throws PatchbayError TRIGGER_SIGNATURE_MISSING, TRIGGER_SIGNATURE_INVALID,
 *   TRIGGER_TIMESTAMP_EXPIRED
 */
export function verifyStandardWebhook(
  key: Buffer,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  options: { toleranceMs: number; now?: number },
): VerifiedWebhook {
  const id = header(headers['webhook-id']);
  const timestamp = header(headers['webhook-timestamp']);
  const signatures = header(headers['webhook-signature']);
  if (!id || !timestamp || !signatures) {
    const missing = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].filter(
      (name) => !header(headers[name]),
    );
    throw new PatchbayError('TRIGGER_SIGNATURE_MISSING', undefined, { missing });
  }
  if (id.length > MAX_ID_LENGTH || !/^\d{1,15}$/.test(timestamp)) {
    throw new PatchbayError(
      'TRIGGER_SIGNATURE_INVALID',
      `webhook-id must be at most ${MAX_ID_LENGTH} characters and webhook-timestamp whole seconds since the epoch`,
    );
  }
  const expected = digest(key, id, timestamp, body);
  let matched = false;
  for (const candidate of signatures.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(candidate.slice(comma + 1), 'base64');
    // No early exit: every listed signature costs the same whether or not one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new PatchbayError('TRIGGER_SIGNATURE_INVALID');
  const seconds = Number(timestamp);
  const now = options.now ?? Date.now();
  if (Math.abs(now - seconds * 1000) > options.toleranceMs) {
    throw new PatchbayError('TRIGGER_TIMESTAMP_EXPIRED', undefined, {
      webhookTimestamp: seconds,
      serverTime: Math.floor(now / 1000),
      toleranceSeconds: Math.floor(options.toleranceMs / 1000),
    });
  }
  return { id, timestamp: seconds };
}
