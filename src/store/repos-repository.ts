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
    github: row.github ?? null,
    githubId: row.github_id === null || row.github_id === undefined ? null : Number(row.github_id),
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
  /** The repository registered for `owner/name` on GitHub (case-insensitive). */
  findByGithub(fullName: string): Promise<Repo | undefined>;
  /** Records GitHub's facts about a repository (App installation events). */
  setGithub(
    id: string,
    facts: { github: string; githubId?: number; installationId?: number; defaultBranch?: string },
  ): Promise<void>;
  /** The App installation that reaches `owner/name`, when an event told us. */
  installationOf(fullName: string): Promise<number | undefined>;
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
          github: repo.github ?? null,
          github_id: repo.githubId ?? null,
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
    async findByGithub(fullName) {
      const rows = await db
        .selectFrom('repos')
        .selectAll()
        .where('github', 'is not', null)
        .execute();
      const row = rows.find((r) => r.github!.toLowerCase() === fullName.toLowerCase());
      return row ? fromRow(row) : undefined;
    },
    async setGithub(id, facts) {
      await db
        .updateTable('repos')
        .set({
          github: facts.github,
          ...(facts.githubId !== undefined && { github_id: facts.githubId }),
          ...(facts.installationId !== undefined && {
            github_installation_id: facts.installationId,
          }),
          ...(facts.defaultBranch !== undefined && { default_branch: facts.defaultBranch }),
        })
        .where('id', '=', id)
        .execute();
    },
    async installationOf(fullName) {
      const rows = await db
        .selectFrom('repos')
        .select(['github', 'github_installation_id'])
        .where('github_installation_id', 'is not', null)
        .execute();
      const row = rows.find((r) => r.github?.toLowerCase() === fullName.toLowerCase());
      return row ? Number(row.github_installation_id) : undefined;
    },
    async delete(id) {
      const result = await db.deleteFrom('repos').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
