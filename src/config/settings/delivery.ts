/**
 * What leaves the server: keys that sign callbacks and artifact URLs or seal stored env
 * values, and callback delivery.
 */
import { z } from 'zod';
import { durationMs, positiveInt, offByDefault, setting } from './spec.js';

export const deliverySettings = {
  webhookSecret: setting({
    key: 'webhookSecret',
    env: 'PATCHBAY_WEBHOOK_SECRET',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: callbacks are unsigned)',
    description: 'HMAC-SHA256 key for `X-Patchbay-Signature: sha256=<hex>` on callback deliveries.',
    secret: true,
  }),
  secretsKey: setting({
    key: 'secretsKey',
    env: 'PATCHBAY_SECRETS_KEY',
    schema: z.string().min(16, 'at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
    defaultText: '(unset: a random key in <dataDir>/secrets.key with SQLite; none with PostgreSQL)',
    description:
      "Key that seals runs' `env` values in the store (AES-256-GCM). Set the same value on every API node and worker sharing a PostgreSQL store: without it their env values are stored unsealed.",
    secret: true,
  }),
  artifactUrlSecret: setting({
    key: 'artifactUrlSecret',
    env: 'PATCHBAY_ARTIFACT_URL_SECRET',
    schema: z.string().min(16).optional(),
    defaultText: '(unset: a random key kept in <dataDir>/artifact-url.key)',
    description:
      'HMAC-SHA256 key of the expiring artifact URLs (`GET /v1/artifacts/:id/url`). Every API node must use the same key: set it, or share the data dir.',
    secret: true,
  }),
  artifactUrlTtlMs: setting({
    key: 'artifactUrlTtlMs',
    env: 'PATCHBAY_ARTIFACT_URL_TTL_MS',
    schema: durationMs.default(3_600_000),
    defaultText: '3600000',
    description: 'How long a signed artifact URL works when the request names no `ttlSeconds`.',
  }),
  allowPrivateCallbackUrls: setting({
    key: 'allowPrivateCallbackUrls',
    env: 'PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Allow callback URLs that reach a loopback, private, link-local or otherwise reserved address (a receiver on this host or the internal network). Off, such a callbackUrl is refused when the run is created (`CALLBACK_URL_FORBIDDEN`), and a name that resolves to one is refused again at every delivery.',
  }),
  callbackMaxAttempts: setting({
    key: 'callbackMaxAttempts',
    env: 'PATCHBAY_CALLBACK_MAX_ATTEMPTS',
    schema: positiveInt.default(6),
    defaultText: '6',
    description: 'Tries per callback delivery before it is recorded as failed.',
  }),
  callbackBackoffMs: setting({
    key: 'callbackBackoffMs',
    env: 'PATCHBAY_CALLBACK_BACKOFF_MS',
    schema: durationMs.default(1000),
    defaultText: '1000',
    description: 'First retry delay of a callback; doubles each try (with jitter).',
  }),
  callbackTimeoutMs: setting({
    key: 'callbackTimeoutMs',
    env: 'PATCHBAY_CALLBACK_TIMEOUT_MS',
    schema: durationMs.default(10_000),
    defaultText: '10000',
    description: 'Time limit of one callback request.',
  }),
};
