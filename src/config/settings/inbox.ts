/**
 * The task inbox (docs/inbox.md): the keys that seal connector credentials, each connector's
 * OAuth app, how often connectors sync, the optional embeddings endpoint, the optional LLM
 * pass, and demo data.
 */
import { z } from 'zod';
import { durationMs, list, offByDefault, positiveInt, setting } from './spec.js';

const httpUrl = z.url({ protocol: /^https?$/ });

/** One connector's OAuth app; the endpoints default to the provider's own. */
export const InboxApp = z
  .object({
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    apiBaseUrl: httpUrl.optional(),
    authorizeUrl: httpUrl.optional(),
    tokenUrl: httpUrl.optional(),
  })
  .strict();
export type InboxApp = z.infer<typeof InboxApp>;

const InboxApps = z
  .object({
    gmail: InboxApp.optional(),
    jira: InboxApp.optional(),
    github: InboxApp.optional(),
    drive: InboxApp.optional(),
  })
  .strict();
export type InboxApps = z.infer<typeof InboxApps>;

export const inboxSettings = {
  inboxKeys: setting({
    key: 'inboxKeys',
    env: 'PATCHBAY_INBOX_KEYS',
    schema: list
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[A-Za-z0-9_-]{1,32}:.{16,}$/, 'each key is `<id>:<secret of 16+ characters>`'),
        ),
      )
      .default([]),
    defaultText: '(unset: one key `default`, the PATCHBAY_SECRETS_KEY or the data dir key file)',
    description:
      'Keys that seal inbox connector credentials (AES-256-GCM), comma-separated `<id>:<secret>`. The first seals; the others still open rows sealed with them until `patchbay keys rotate` re-seals those under the first. Every process sharing the store needs the same list.',
    secret: true,
  }),
  inboxApps: setting({
    key: 'inboxApps',
    env: 'PATCHBAY_INBOX_APPS',
    schema: z
      .preprocess((v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      }, InboxApps)
      .default({}),
    defaultText: '{} (no connector can connect)',
    description:
      'OAuth app of each inbox connector, JSON: `{"gmail": {"clientId": "…", "clientSecret": "…"}, "jira": {…}, "github": {…}, "drive": {…}}`; `apiBaseUrl`, `authorizeUrl` and `tokenUrl` override the provider endpoints. The redirect URL is `<PATCHBAY_PUBLIC_URL>/v1/oauth/callback/<kind>`.',
    secret: true,
    secretsOf: (apps: InboxApps) =>
      Object.values(apps).flatMap((a) => (a?.clientSecret ? [a.clientSecret] : [])),
  }),
  inboxSyncIntervalMs: setting({
    key: 'inboxSyncIntervalMs',
    env: 'PATCHBAY_INBOX_SYNC_INTERVAL_MS',
    schema: durationMs.default(300_000),
    defaultText: '300000',
    description: 'How often each connected inbox connector syncs (a sync also follows a connect).',
  }),
  inboxEmbeddingsUrl: setting({
    key: 'inboxEmbeddingsUrl',
    env: 'PATCHBAY_INBOX_EMBEDDINGS_URL',
    schema: httpUrl.optional(),
    defaultText: '(unset: offline lexical similarity)',
    description:
      'Base URL of an OpenAI-compatible embeddings API (`<url>/embeddings`) used to find duplicate tasks; thresholds are calibrated and stored per model.',
  }),
  inboxEmbeddingsProvider: setting({
    key: 'inboxEmbeddingsProvider',
    env: 'PATCHBAY_INBOX_EMBEDDINGS_PROVIDER',
    schema: z.enum(['openai', 'google']).default('openai'),
    defaultText: 'openai',
    description:
      'Wire format of PATCHBAY_INBOX_EMBEDDINGS_URL: `openai` (any OpenAI-compatible `POST <url>/embeddings`, e.g. `https://api.openai.com/v1`) or `google` (`<url>/v1beta/models/<model>:batchEmbedContents`, e.g. `https://generativelanguage.googleapis.com`).',
  }),
  inboxEmbeddingsModel: setting({
    key: 'inboxEmbeddingsModel',
    env: 'PATCHBAY_INBOX_EMBEDDINGS_MODEL',
    schema: z.string().min(1).default('text-embedding-3-small'),
    defaultText: 'text-embedding-3-small',
    description: 'The embeddings model asked for (with PATCHBAY_INBOX_EMBEDDINGS_URL).',
  }),
  inboxEmbeddingsApiKey: setting({
    key: 'inboxEmbeddingsApiKey',
    env: 'PATCHBAY_INBOX_EMBEDDINGS_API_KEY',
    schema: z.string().min(1).optional(),
    defaultText: '(unset)',
    description: 'Bearer key of the embeddings API.',
    secret: true,
  }),
  inboxLlm: setting({
    key: 'inboxLlm',
    env: 'PATCHBAY_INBOX_LLM',
    schema: offByDefault,
    defaultText: 'false',
    description:
      "After each sync, asks the model (PATCHBAY_LLM_PROVIDER / PATCHBAY_LLM_MODEL, like any Patchbay call) for a short summary and up to 3 labels of each new or changed task, shown as the task's `aiSummary` / `aiLabels`. Never changes a score or an order; a failed call is retried at the next sync. Needs a configured provider (docs/llm.md).",
  }),
  inboxLlmMaxPerSync: setting({
    key: 'inboxLlmMaxPerSync',
    env: 'PATCHBAY_INBOX_LLM_MAX_PER_SYNC',
    schema: positiveInt.default(20),
    defaultText: '20',
    description:
      'Tasks the LLM pass asks about after one sync, at most (the rest wait for the next sync).',
  }),
  inboxDevSeed: setting({
    key: 'inboxDevSeed',
    env: 'PATCHBAY_INBOX_DEV_SEED',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Enables `POST /v1/dev/seed`, which fills the inbox with demo tasks and connectors.',
  }),
};
