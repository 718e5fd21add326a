/**
 * Shared infrastructure: the store, the Redis queue, worker leases and health, and how run
 * events are written.
 */
import { z } from 'zod';
import { port, setting } from './spec.js';

export const storeQueueSettings = {
  databaseUrl: setting({
    key: 'databaseUrl',
    env: 'PATCHBAY_DATABASE_URL',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: <dataDir>/patchbay.db)',
    description:
      'Store location: a SQLite file path or `sqlite:<path>` (one machine), or `postgres://…` (PostgreSQL, shared by every API node and worker).',
    secret: true,
  }),
  queueUrl: setting({
    key: 'queueUrl',
    env: 'PATCHBAY_QUEUE_URL',
    schema: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    defaultText: '(unset: runs wait in the store; events stay in this process)',
    description:
      "Redis for several Patchbay processes sharing one store: runs wait in BullMQ on it and any server's workers take them, and run events are published on it so every server's streams see every run.",
    secret: true,
  }),
  queuePrefix: setting({
    key: 'queuePrefix',
    env: 'PATCHBAY_QUEUE_PREFIX',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('patchbay'),
    defaultText: 'patchbay',
    description:
      'Prefix of every Redis key and channel, so several installations can share one Redis.',
  }),
  queues: setting({
    key: 'queues',
    env: 'PATCHBAY_QUEUES',
    schema: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean)
            : v,
        z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a run queue name')).min(1),
      )
      .default(['default']),
    defaultText: 'default',
    description:
      'Comma-separated run queues this process takes runs from (`serve` and `worker`; `patchbay worker --queues` overrides). A run names its queue with `queue`.',
  }),
  runLeaseMs: setting({
    key: 'runLeaseMs',
    env: 'PATCHBAY_RUN_LEASE_MS',
    schema: z.coerce.number().int().min(1000).default(30_000),
    defaultText: '30000',
    description:
      "How long a process may stay silent before it is taken for lost: its run jobs' lease and its registry heartbeat (renewed every third of it). A lost process's runs end `interrupted` (or start again when their `retries` allow) once it expires.",
  }),
  connectTimeoutMs: setting({
    key: 'connectTimeoutMs',
    env: 'PATCHBAY_CONNECT_TIMEOUT_MS',
    schema: z.coerce.number().int().min(100).default(5000),
    defaultText: '5000',
    description:
      'At start, how long to keep trying PostgreSQL (PATCHBAY_DATABASE_URL) and Redis (PATCHBAY_QUEUE_URL) before refusing to start with STORE_UNAVAILABLE or QUEUE_UNAVAILABLE. A connection lost later is retried for as long as it takes, and reported on `/ready`.',
  }),
  workerGraceMs: setting({
    key: 'workerGraceMs',
    env: 'PATCHBAY_WORKER_GRACE_MS',
    schema: z.coerce.number().int().min(0).default(60_000),
    defaultText: '60000',
    description:
      'On SIGTERM a `patchbay worker` stops taking runs and lets running ones finish for this long; the rest are stopped and queued again for another worker.',
  }),
  workerHealthPort: setting({
    key: 'workerHealthPort',
    env: 'PATCHBAY_WORKER_HEALTH_PORT',
    schema: port.optional(),
    defaultText: '(unset: no HTTP)',
    description:
      '`patchbay worker` serves `GET /health` and `GET /metrics` on this port (bound to PATCHBAY_HOST).',
  }),
};

/** How run events reach the store. */
export const eventSettings = {
  eventFlushMs: setting({
    key: 'eventFlushMs',
    env: 'PATCHBAY_EVENT_FLUSH_MS',
    schema: z.coerce.number().int().min(0).default(5),
    defaultText: '5',
    description: 'Longest wait before buffered run events are written in one transaction.',
  }),
};
