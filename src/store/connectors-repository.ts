import type { Kysely, Selectable, Updateable } from 'kysely';
import { PatchbayError, type InboxConnectorKind } from '../contracts/index.js';
import type { Keyring } from './keyring.js';
import type { Database } from './schema.js';
import type { InboxConnectorsTable } from './schema-inbox.js';

export type ConnectorStatus = 'connected' | 'error' | 'disconnected';

/** A connector as stored; `credentials` stay sealed until `openCredentials`. */
export interface ConnectorRecord {
  kind: InboxConnectorKind;
  status: ConnectorStatus;
  message: string | null;
  /** Whether sealed credentials are stored, and under which key. */
  hasCredentials: boolean;
  keyId: string | null;
  cursor: string | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  blockedUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ConnectorPatch = Partial<
  Pick<
    ConnectorRecord,
    'status' | 'message' | 'cursor' | 'lastSyncAt' | 'nextSyncAt' | 'blockedUntil'
  >
>;

export interface ConnectorRepository {
  get(kind: string): Promise<ConnectorRecord | undefined>;
  list(): Promise<ConnectorRecord[]>;
  /** Creates or replaces the connector's credentials (sealed under the active key). */
  saveCredentials(
    kind: InboxConnectorKind,
    credentials: unknown,
    patch?: ConnectorPatch,
  ): Promise<void>;
  /** The credentials opened; undefined when none are stored. Throws INBOX_KEY_MISSING / INBOX_CREDENTIALS_UNREADABLE. */
  openCredentials(kind: string): Promise<unknown>;
  update(kind: string, patch: ConnectorPatch): Promise<boolean>;
  delete(kind: string): Promise<boolean>;
  /**
   * Takes the sync lease of a connector for `owner` until `until` when it is free (no lease,
   * or one that ran out by `now`) or already `owner`'s: one sync of a connector at a time
   * across every process sharing the store. False when another process holds it.
   */
  claimSync(kind: string, owner: string, now: string, until: string): Promise<boolean>;
  /** Extends `owner`'s lease; false when it lost it (ran out and was taken, or released). */
  renewSync(kind: string, owner: string, until: string): Promise<boolean>;
  releaseSync(kind: string, owner: string): Promise<void>;
  /** Re-seals every row not under the active key; returns how many were re-sealed. */
  rotate(): Promise<{ rotated: number; total: number; unreadable: string[] }>;
  /** PKCE state of a connect in progress (verifier sealed). */
  saveOauthState(state: string, kind: string, codeVerifier: string): Promise<void>;
  /** Takes (and deletes) a state not older than `notBefore`. */
  takeOauthState(
    state: string,
    notBefore: string,
  ): Promise<{ kind: string; codeVerifier: string } | undefined>;
}

/** The associated data of a connector row: its table and primary key. */
const aadOf = (kind: string): string => `inbox_connectors:${kind}`;
const aadOfState = (state: string): string => `inbox_oauth_states:${state}`;

function requireKeyring(keyring: Keyring | null): Keyring {
  if (!keyring) throw new PatchbayError('INBOX_KEYRING_MISSING');
  return keyring;
}

function toRecord(r: Selectable<InboxConnectorsTable>): ConnectorRecord {
  return {
    kind: r.kind as InboxConnectorKind,
    status: r.status as ConnectorStatus,
    message: r.message,
    hasCredentials: r.credentials !== null,
    keyId: r.key_id,
    cursor: r.cursor,
    lastSyncAt: r.last_sync_at,
    nextSyncAt: r.next_sync_at,
    blockedUntil: r.blocked_until,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function patchRow(patch: ConnectorPatch): Updateable<InboxConnectorsTable> {
  const row: Updateable<InboxConnectorsTable> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.message !== undefined) row.message = patch.message;
  if (patch.cursor !== undefined) row.cursor = patch.cursor;
  if (patch.lastSyncAt !== undefined) row.last_sync_at = patch.lastSyncAt;
  if (patch.nextSyncAt !== undefined) row.next_sync_at = patch.nextSyncAt;
  if (patch.blockedUntil !== undefined) row.blocked_until = patch.blockedUntil;
  return row;
}

export function createConnectorRepository(
  db: Kysely<Database>,
  keyring: Keyring | null,
): ConnectorRepository {
  return {
    async get(kind) {
      const row = await db
        .selectFrom('inbox_connectors')
        .selectAll()
        .where('kind', '=', kind)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async list() {
      const rows = await db.selectFrom('inbox_connectors').selectAll().orderBy('kind').execute();
      return rows.map(toRecord);
    },
    async saveCredentials(kind, credentials, patch = {}) {
      const { keyId, sealed } = requireKeyring(keyring).seal(
        JSON.stringify(credentials),
        aadOf(kind),
      );
      const now = new Date().toISOString();
      const row = {
        status: patch.status ?? 'connected',
        message: patch.message ?? null,
        credentials: sealed,
        key_id: keyId,
        updated_at: now,
      };
      await db
        .insertInto('inbox_connectors')
        .values({
          kind,
          ...row,
          cursor: patch.cursor ?? null,
          last_sync_at: null,
          next_sync_at: patch.nextSyncAt ?? null,
          blocked_until: null,
          sync_owner: null,
          sync_lease_until: null,
          created_at: now,
        })
        .onConflict((oc) => oc.column('kind').doUpdateSet({ ...row, ...patchRow(patch) }))
        .execute();
    },
    async openCredentials(kind) {
      const row = await db
        .selectFrom('inbox_connectors')
        .select(['credentials', 'key_id'])
        .where('kind', '=', kind)
        .executeTakeFirst();
      if (!row?.credentials || !row.key_id) return undefined;
      return JSON.parse(requireKeyring(keyring).open(row.key_id, row.credentials, aadOf(kind)));
    },
    async update(kind, patch) {
      const result = await db
        .updateTable('inbox_connectors')
        .set({ ...patchRow(patch), updated_at: new Date().toISOString() })
        .where('kind', '=', kind)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async delete(kind) {
      const result = await db
        .deleteFrom('inbox_connectors')
        .where('kind', '=', kind)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async claimSync(kind, owner, now, until) {
      const result = await db
        .updateTable('inbox_connectors')
        .set({ sync_owner: owner, sync_lease_until: until })
        .where('kind', '=', kind)
        .where((eb) =>
          eb.or([
            eb('sync_lease_until', 'is', null),
            eb('sync_lease_until', '<=', now),
            eb('sync_owner', '=', owner),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async renewSync(kind, owner, until) {
      const result = await db
        .updateTable('inbox_connectors')
        .set({ sync_lease_until: until })
        .where('kind', '=', kind)
        .where('sync_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async releaseSync(kind, owner) {
      await db
        .updateTable('inbox_connectors')
        .set({ sync_owner: null, sync_lease_until: null })
        .where('kind', '=', kind)
        .where('sync_owner', '=', owner)
        .execute();
    },
    async rotate() {
      const ring = requireKeyring(keyring);
      const rows = await db
        .selectFrom('inbox_connectors')
        .select(['kind', 'credentials', 'key_id'])
        .where('credentials', 'is not', null)
        .execute();
      let rotated = 0;
      const unreadable: string[] = [];
      for (const row of rows) {
        if (row.key_id === ring.activeKeyId) continue;
        let plain: string;
        try {
          plain = ring.open(row.key_id ?? '', row.credentials!, aadOf(row.kind));
        } catch {
          // Left as it is: reported, and its connector must be reconnected.
          unreadable.push(row.kind);
          continue;
        }
        const { keyId, sealed } = ring.seal(plain, aadOf(row.kind));
        // Only if nobody re-sealed the row meanwhile (a reconnect during the rotation).
        const result = await db
          .updateTable('inbox_connectors')
          .set({ credentials: sealed, key_id: keyId })
          .where('kind', '=', row.kind)
          .where('credentials', '=', row.credentials)
          .executeTakeFirst();
        rotated += Number(result.numUpdatedRows);
      }
      return { rotated, total: rows.length, unreadable };
    },
    async saveOauthState(state, kind, codeVerifier) {
      const { keyId, sealed } = requireKeyring(keyring).seal(codeVerifier, aadOfState(state));
      await db
        .insertInto('inbox_oauth_states')
        .values({
          state,
          kind,
          code_verifier: `${keyId}:${sealed}`,
          created_at: new Date().toISOString(),
        })
        .execute();
    },
    async takeOauthState(state, notBefore) {
      const row = await db
        .deleteFrom('inbox_oauth_states')
        .where('state', '=', state)
        .returningAll()
        .executeTakeFirst();
      if (!row || row.created_at < notBefore) return undefined;
      const at = row.code_verifier.indexOf(':');
      const codeVerifier = requireKeyring(keyring).open(
        row.code_verifier.slice(0, at),
        row.code_verifier.slice(at + 1),
        aadOfState(state),
      );
      return { kind: row.kind, codeVerifier };
    },
  };
}
