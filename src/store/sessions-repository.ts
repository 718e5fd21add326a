import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A dashboard session as stored: keyed by the SHA-256 (hex) of the id its cookie carries. */
export interface SessionRecord {
  idHash: string;
  /** The fingerprint of the API token it was made with. */
  identity: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string;
}

/** Dashboard sessions (migration 0020). Expiry is checked by the caller against its clock. */
export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  get(idHash: string): Promise<SessionRecord | undefined>;
  /** True when it existed. */
  delete(idHash: string): Promise<boolean>;
  /** Deletes every session expired at `now` (ISO); returns how many. */
  prune(now: string): Promise<number>;
}

export function createSessionRepository(db: Kysely<Database>): SessionRepository {
  return {
    async insert(s) {
      await db
        .insertInto('dashboard_sessions')
        .values({
          id_hash: s.idHash,
          identity: s.identity,
          scopes: JSON.stringify(s.scopes),
          created_at: s.createdAt,
          expires_at: s.expiresAt,
        })
        .execute();
    },
    async get(idHash) {
      const row = await db
        .selectFrom('dashboard_sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        idHash: row.id_hash,
        identity: row.identity,
        scopes: JSON.parse(row.scopes) as string[],
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },
    async delete(idHash) {
      const result = await db
        .deleteFrom('dashboard_sessions')
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async prune(now) {
      const result = await db
        .deleteFrom('dashboard_sessions')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
