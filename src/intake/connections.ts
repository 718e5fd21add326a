import { randomBytes } from 'node:crypto';
import { PatchbayError, type InboxConnector, type SyncReport } from '../contracts/index.js';
import {
  CONNECTOR_KINDS,
  ConnectorError,
  type Connector,
  type ConnectorAppConfig,
  type ConnectorCredentials,
  type ConnectorKind,
  type Fetch,
  type TestStep,
} from './connectors/types.js';
import type { InboxContext } from './context.js';
import { applySync } from './ingest.js';

/** Makes a connector of a kind (the registry in ./connectors/index.ts, or a test's own). */
export type CreateConnector = (
  kind: ConnectorKind,
  config: ConnectorAppConfig,
  fetch: Fetch,
) => Connector;

export interface ConnectionOptions {
  /** OAuth app per kind; a kind without one cannot connect. */
  apps: Partial<Record<ConnectorKind, ConnectorAppConfig>>;
  /** The real connectors (src/intake/connectors) unless a caller brings its own. */
  createConnector?: CreateConnector | undefined;
  fetch: Fetch;
  /** Between two syncs of one connector. */
  syncIntervalMs: number;
  /** Pages one sync may take before it leaves the rest to the next (a bounded backfill). */
  maxPagesPerSync?: number;
  /** Told after each sync that ended well (the LLM pass starts from it); never awaited. */
  onSynced?: (kind: ConnectorKind) => void;
}

/** Asked before each page of a sync: false stops it (the caller lost its sync lease). */
export interface SyncGuard {
  stillHeld(): Promise<boolean>;
}

/** How long a connect may take between the authorize URL and the callback. */
const OAUTH_STATE_TTL_MS = 15 * 60_000;

export function isConnectorKind(kind: string): kind is ConnectorKind {
  return (CONNECTOR_KINDS as readonly string[]).includes(kind);
}

/** What to tell the user for a provider failure (ConnectorError messages already are). */
function userMessage(err: unknown): string {
  if (err instanceof ConnectorError) {
    if (err.kind === 'rate_limited' && err.retryAt)
      return `rate limited until ${err.retryAt.toISOString()}`;
    if (err.kind === 'auth_expired' || err.kind === 'auth_revoked')
      return `${err.message} (reconnect)`;
    return err.message;
  }
  if (err instanceof PatchbayError) return err.message;
  return `unexpected failure: ${(err as Error).message || String(err)}`;
}

/**
 * Connectors as the user manages them: connect (OAuth with PKCE, state stored sealed),
 * callback, a GitHub token, test, sync, disconnect. Credentials are sealed by the store
 * (ConnectorRepository) and never leave this module except to the connector itself.
 */
export function createConnections(ctx: InboxContext, options: ConnectionOptions) {
  const { connectors } = ctx.store;
  function connectorOf(kind: ConnectorKind): Promise<Connector> {
    const app = options.apps[kind];
    if (!app) {
      return Promise.reject(
        new PatchbayError(
          'INBOX_CONNECTOR_NOT_CONFIGURED',
          `the ${kind} connector has no OAuth app configured (PATCHBAY_INBOX_APPS)`,
          { kind },
        ),
      );
    }
    if (options.createConnector)
      return Promise.resolve(options.createConnector(kind, app, options.fetch));
    // The real connectors (with arctic and @oslojs) load with the first connector call, not at
    // every start: most servers connect none (docs/architecture.md, "Memory").
    return import('./connectors/index.js').then(({ createConnector }) =>
      createConnector(kind, app, options.fetch),
    );
  }

  async function credentialsOf(kind: ConnectorKind): Promise<ConnectorCredentials> {
    const credentials = (await connectors.openCredentials(kind)) as
      ConnectorCredentials | undefined;
    if (!credentials) {
      throw new PatchbayError(
        'INBOX_CONNECTOR_NOT_CONNECTED',
        `the ${kind} connector is not connected`,
        { kind },
      );
    }
    return credentials;
  }

  /** Refreshes credentials that expire within a minute, when there is a refresh token. */
  async function fresh(
    kind: ConnectorKind,
    connector: Connector,
    force = false,
  ): Promise<ConnectorCredentials> {
    const credentials = await credentialsOf(kind);
    const expiring =
      credentials.expiresAt && Date.parse(credentials.expiresAt) - ctx.now().getTime() < 60_000;
    if ((!force && !expiring) || !credentials.refreshToken) return credentials;
    const refreshed = await connector.refresh(credentials);
    await connectors.saveCredentials(kind, {
      ...refreshed,
      refreshToken: refreshed.refreshToken ?? credentials.refreshToken,
    });
    ctx.log.info({ kind }, 'connector credentials refreshed');
    return refreshed;
  }

  async function fail(kind: ConnectorKind, err: unknown): Promise<void> {
    const message = userMessage(err);
    const blockedUntil =
      err instanceof ConnectorError && err.kind === 'rate_limited' && err.retryAt
        ? err.retryAt.toISOString()
        : undefined;
    // A rate limit also moves the next sync to the moment the provider named, so the queue
    // job for it waits until then (and nothing is sent before, also after a restart).
    await connectors.update(kind, {
      status: 'error',
      message,
      ...(blockedUntil ? { blockedUntil, nextSyncAt: blockedUntil } : {}),
    });
    ctx.log.warn({ kind, err: message }, 'connector failed');
  }

  return {
    async list(): Promise<InboxConnector[]> {
      const rows = new Map((await connectors.list()).map((r) => [r.kind, r]));
      return CONNECTOR_KINDS.map((kind) => {
        const row = rows.get(kind);
        return {
          kind,
          status: row?.status ?? 'disconnected',
          message: row?.message ?? null,
          configured: !!options.apps[kind],
          lastSyncAt: row?.lastSyncAt ?? null,
          nextSyncAt: row?.nextSyncAt ?? null,
          blockedUntil: row?.blockedUntil ?? null,
        };
      });
    },

    /** The provider's authorize URL; the PKCE verifier waits (sealed) for the callback. */
    async connect(kind: ConnectorKind): Promise<string> {
      const connector = await connectorOf(kind);
      const state = randomBytes(24).toString('base64url');
      const codeVerifier = randomBytes(48).toString('base64url');
      await connectors.saveOauthState(state, kind, codeVerifier);
      return connector.authorizeUrl({ state, codeVerifier }).toString();
    },

    async callback(kind: ConnectorKind, code: string, state: string): Promise<void> {
      const notBefore = new Date(ctx.now().getTime() - OAUTH_STATE_TTL_MS).toISOString();
      const taken = await connectors.takeOauthState(state, notBefore);
      if (!taken || taken.kind !== kind) throw new PatchbayError('INBOX_OAUTH_STATE_INVALID');
      const connector = await connectorOf(kind);
      let credentials: ConnectorCredentials;
      try {
        credentials = await connector.exchange(code, taken.codeVerifier);
      } catch (err) {
        throw new PatchbayError(
          'INBOX_OAUTH_FAILED',
          `${kind}: ${userMessage(err)}`,
          { kind },
          { cause: err },
        );
      }
      await connectors.saveCredentials(kind, credentials, {
        status: 'connected',
        message: null,
        cursor: null,
        nextSyncAt: ctx.now().toISOString(),
      });
      ctx.log.info({ kind }, 'connector connected');
    },

    /** GitHub accepts a token in place of OAuth. */
    async connectToken(kind: ConnectorKind, token: string): Promise<void> {
      if (kind !== 'github') {
        throw new PatchbayError(
          'VALIDATION_FAILED',
          `${kind} connects through OAuth only; a token is for github`,
        );
      }
      await connectors.saveCredentials(
        kind,
        { accessToken: token },
        { status: 'connected', message: null, cursor: null, nextSyncAt: ctx.now().toISOString() },
      );
    },

    async test(kind: ConnectorKind): Promise<TestStep[]> {
      const connector = await connectorOf(kind);
      const row = await connectors.get(kind);
      if (row?.blockedUntil && Date.parse(row.blockedUntil) > ctx.now().getTime()) {
        // Nothing is sent to a provider that said "wait": not even a test.
        return [{ step: 'auth', ok: false, detail: `rate limited until ${row.blockedUntil}` }];
      }
      let steps: TestStep[];
      try {
        steps = [...(await connector.test(await fresh(kind, connector)))];
      } catch (err) {
        if (err instanceof PatchbayError && err.code === 'INBOX_CONNECTOR_NOT_CONNECTED') throw err;
        await fail(kind, err);
        return [{ step: 'auth', ok: false, detail: userMessage(err) }];
      }
      const failed = steps.find((s) => !s.ok);
      await connectors.update(
        kind,
        failed
          ? { status: 'error', message: failed.detail }
          : { status: 'connected', message: null },
      );
      return steps;
    },

    /**
     * One sync: every page the provider has (up to the bound), applied as it comes; the
     * cursor is saved after each page, so a failure loses nothing already applied. Nothing
     * is sent while the connector is blocked by a rate limit.
     */
    async sync(kind: ConnectorKind, guard?: SyncGuard): Promise<SyncReport | null> {
      const row = await connectors.get(kind);
      if (!row?.hasCredentials) return null;
      const now = ctx.now();
      if (row.blockedUntil && Date.parse(row.blockedUntil) > now.getTime()) {
        ctx.log.info({ kind, blockedUntil: row.blockedUntil }, 'sync skipped: rate limited');
        return null;
      }
      const connector = await connectorOf(kind);
      const total: SyncReport = {
        kind,
        items: 0,
        created: 0,
        updated: 0,
        merged: 0,
        archived: 0,
        rebackfilled: false,
      };
      let cursor = row.cursor;
      try {
        let credentials = await fresh(kind, connector);
        for (let page = 0; page < (options.maxPagesPerSync ?? 50); page++) {
          if (guard && !(await guard.stillHeld())) {
            // Our lease ran out (a stalled process) and another may sync now: stop here; what
            // was applied is saved with its cursor.
            ctx.log.warn({ kind, page }, 'sync stopped: its lease was lost');
            return null;
          }
          let result;
          try {
            result = await connector.sync(credentials, cursor);
          } catch (err) {
            // An access token the provider says expired: refresh once and try again.
            if (!(
              err instanceof ConnectorError &&
              err.kind === 'auth_expired' &&
              credentials.refreshToken
            ))
              throw err;
            credentials = await fresh(kind, connector, true);
            result = await connector.sync(credentials, cursor);
          }
          const report = await applySync(ctx, kind, result);
          for (const k of ['items', 'created', 'updated', 'merged', 'archived'] as const)
            total[k] += report[k];
          total.rebackfilled ||= report.rebackfilled;
          cursor = result.cursor;
          await connectors.update(kind, { cursor });
          if (!result.more) break;
        }
      } catch (err) {
        await connectors.update(kind, {
          nextSyncAt: new Date(now.getTime() + options.syncIntervalMs).toISOString(),
        });
        await fail(kind, err);
        return null;
      }
      await connectors.update(kind, {
        status: 'connected',
        message: null,
        blockedUntil: null,
        lastSyncAt: ctx.now().toISOString(),
        nextSyncAt: new Date(ctx.now().getTime() + options.syncIntervalMs).toISOString(),
      });
      ctx.log.info({ ...total }, 'connector synced');
      options.onSynced?.(kind);
      return total;
    },

    async disconnect(kind: ConnectorKind): Promise<void> {
      await connectors.delete(kind);
    },
  };
}

export type Connections = ReturnType<typeof createConnections>;
