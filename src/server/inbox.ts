import type { ResolvedConfig } from '../config/index.js';
import {
  createInbox,
  createSyncJobs,
  createLexicalSimilarity,
  createSimilarity,
  type ConnectorAppConfig,
  type ConnectorKind,
  type CreateConnector,
  type Fetch,
  type Inbox,
  type SyncJobs,
} from '../intake/index.js';
import { configuredProviders, createLlmClient } from '../llm/index.js';
import type { JobQueue } from '../queue/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';

/** The providers' own endpoints, used unless PATCHBAY_INBOX_APPS overrides them. */
const PROVIDER_ENDPOINTS: Record<ConnectorKind, ConnectorAppConfig['endpoints']> = {
  gmail: {
    apiBaseUrl: 'https://gmail.googleapis.com',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
  },
  drive: {
    apiBaseUrl: 'https://www.googleapis.com',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
  },
  jira: {
    apiBaseUrl: 'https://api.atlassian.com',
    authorizeUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
  },
  github: {
    apiBaseUrl: 'https://api.github.com',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
  },
};

/** Where providers send the user back: `<public URL>/v1/oauth/callback/<kind>`. */
export function oauthRedirectUri(config: ResolvedConfig, kind: ConnectorKind): string {
  const base =
    config.publicUrl ??
    `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  return `${base.replace(/\/+$/, '')}/v1/oauth/callback/${kind}`;
}

export interface ServerInbox {
  inbox: Inbox;
  /** Connector syncs as queue jobs: `syncNow` under the lease, `schedule` after a connect. */
  syncs: SyncJobs;
  /** Queues the connector's next sync (due now after a connect). */
  kick(kind: ConnectorKind): void;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The inbox of a server: its connectors' apps from PATCHBAY_INBOX_APPS, the similarity method
 * (embeddings when PATCHBAY_INBOX_EMBEDDINGS_URL is set), and the syncs: queue jobs on the
 * engine's queue, one per connector every PATCHBAY_INBOX_SYNC_INTERVAL_MS, taken by the
 * processes that take work (see src/intake/sync-jobs.ts).
 */
export function createServerInbox(options: {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  queue: JobQueue;
  instanceId: string;
  createConnector?: CreateConnector;
  fetch?: Fetch;
}): ServerInbox {
  const { config } = options;
  const log = options.log.child({ module: 'inbox' });
  const apps: Partial<Record<ConnectorKind, ConnectorAppConfig>> = {};
  for (const [kind, app] of Object.entries(config.inboxApps) as Array<
    [ConnectorKind, NonNullable<ResolvedConfig['inboxApps'][ConnectorKind]>]
  >) {
    if (!app) continue;
    const defaults = PROVIDER_ENDPOINTS[kind];
    apps[kind] = {
      clientId: app.clientId,
      ...(app.clientSecret ? { clientSecret: app.clientSecret } : {}),
      redirectUri: oauthRedirectUri(config, kind),
      endpoints: {
        apiBaseUrl: app.apiBaseUrl ?? defaults.apiBaseUrl,
        authorizeUrl: app.authorizeUrl ?? defaults.authorizeUrl,
        tokenUrl: app.tokenUrl ?? defaults.tokenUrl,
      },
    };
  }
  const inbox = createInbox({
    store: options.store,
    log,
    ...llmPassOf(config, options.store, log),
    apps,
    createConnector: options.createConnector,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    syncIntervalMs: config.inboxSyncIntervalMs,
    similarity: createSimilarity({
      offline: createLexicalSimilarity(),
      log,
      ...(config.inboxEmbeddingsUrl
        ? {
            embeddings: {
              provider: config.inboxEmbeddingsProvider,
              baseUrl: config.inboxEmbeddingsUrl,
              model: config.inboxEmbeddingsModel,
              ...(config.inboxEmbeddingsApiKey ? { apiKey: config.inboxEmbeddingsApiKey } : {}),
              ...(options.fetch ? { fetch: options.fetch } : {}),
            },
          }
        : {}),
    }),
  });
  const syncs = createSyncJobs({
    queue: options.queue,
    connections: inbox.connections,
    store: options.store,
    log,
    instanceId: options.instanceId,
    leaseMs: config.runLeaseMs,
    sweepMs: Math.min(config.inboxSyncIntervalMs, 30_000),
  });
  return {
    inbox,
    syncs,
    kick(kind) {
      syncs
        .schedule(kind)
        .catch((err: unknown) =>
          log.warn({ err, kind }, 'could not queue a sync after connect: the sweep will'),
        );
    },
    start: () => syncs.start(),
    async stop() {
      await syncs.stop();
      await inbox.llmPass?.idle();
    },
  };
}

/** The LLM pass when PATCHBAY_INBOX_LLM is on and a provider is configured (else a warning). */
function llmPassOf(
  config: ResolvedConfig,
  store: Store,
  log: Logger,
): { llm?: { llm: ReturnType<typeof createLlmClient>; maxPerSync: number } } {
  if (!config.inboxLlm) return {};
  if (configuredProviders(config).length === 0) {
    log.warn(
      { code: 'LLM_NOT_CONFIGURED' },
      'PATCHBAY_INBOX_LLM is on but no model provider is configured: the LLM pass is off (docs/llm.md)',
    );
    return {};
  }
  return {
    llm: {
      llm: createLlmClient({ config, ledger: store.llmCalls, log }),
      maxPerSync: config.inboxLlmMaxPerSync,
    },
  };
}
