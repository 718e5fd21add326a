import type { Kysely, Selectable } from 'kysely';
import type { LlmProviderName, LlmRepoSettings, Repo } from '../contracts/index.js';
import type { Database, ReposTable } from './schema.js';

function fromRow(row: Selectable<ReposTable>): Repo {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    path: row.path,
    defaultBranch: row.default_branch,
    managed: Number(row.managed) === 1,
    createdAt: row.created_at,
    llm:
      row.llm_provider === null && row.llm_model === null
        ? null
        : {
            ...(row.llm_provider !== null && {
              provider: row.llm_provider as LlmProviderName,
            }),
            ...(row.llm_model !== null && { model: row.llm_model }),
          },
  };
}

export interface RepoRepository {
  insert(repo: Repo): Promise<void>;
  get(id: string): Promise<Repo | undefined>;
  list(): Promise<Repo[]>;
  delete(id: string): Promise<boolean>;
  /** Sets (or with null clears) the repository's model choice; false when there is no such repo. */
  setLlm(id: string, llm: LlmRepoSettings | null): Promise<boolean>;
}

export function createRepoRepository(db: Kysely<Database>): RepoRepository {
  return {
    async insert(repo) {
      await db
        .insertInto('repos')
        .values({
          id: repo.id,
          name: repo.name,
          url: repo.url,
          path: repo.path,
          default_branch: repo.defaultBranch,
          managed: repo.managed ? 1 : 0,
          created_at: repo.createdAt,
          llm_provider: repo.llm?.provider ?? null,
          llm_model: repo.llm?.model ?? null,
        })
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom('repos').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list() {
      return (await db.selectFrom('repos').selectAll().orderBy('id', 'asc').execute()).map(fromRow);
    },
    async setLlm(id, llm) {
      const result = await db
        .updateTable('repos')
        .set({ llm_provider: llm?.provider ?? null, llm_model: llm?.model ?? null })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async delete(id) {
      const result = await db.deleteFrom('repos').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
