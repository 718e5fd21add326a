import type { Kysely, Selectable } from 'kysely';
import type { Artifact, Proposal, StoredProposal } from '../contracts/index.js';
import type { ArtifactsTable, Database, ProposalsTable } from './schema.js';

/** An artifact as stored: where its file lies under `<dataDir>/artifacts`. */
export interface ArtifactRecord extends Artifact {
  path: string;
}

export interface ArtifactRepository {
  insert(artifact: ArtifactRecord): Promise<void>;
  get(id: string): Promise<ArtifactRecord | undefined>;
  /** A run's artifacts, or (with `byOptimization`) every stage's of one optimization. */
  list(filter: { runId?: string; optimizationId?: string }): Promise<ArtifactRecord[]>;
}

export type ProposalRecord = Omit<StoredProposal, 'artifacts'>;

export interface ProposalRepository {
  insert(proposal: ProposalRecord): Promise<void>;
  get(id: string): Promise<ProposalRecord | undefined>;
  /** Newest first; `before` is an id (ids sort by creation within one optimization's run). */
  list(filter: {
    repoId?: string;
    optimizationId?: string;
    before?: string;
    limit: number;
  }): Promise<ProposalRecord[]>;
}

function artifactFromRow(row: Selectable<ArtifactsTable>): ArtifactRecord {
  return {
    id: row.id,
    runId: row.run_id,
    optimizationId: row.parent_id,
    repoId: row.repo_id,
    name: row.name,
    path: row.path,
    bytes: Number(row.bytes),
    sha256: row.sha256,
    contentType: row.content_type,
    createdAt: row.created_at,
  };
}

export function createArtifactRepository(db: Kysely<Database>): ArtifactRepository {
  return {
    async insert(a) {
      await db
        .insertInto('artifacts')
        .values({
          id: a.id,
          run_id: a.runId,
          parent_id: a.optimizationId,
          repo_id: a.repoId,
          name: a.name,
          path: a.path,
          bytes: a.bytes,
          sha256: a.sha256,
          content_type: a.contentType,
          created_at: a.createdAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('artifacts')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? artifactFromRow(row) : undefined;
    },
    async list({ runId, optimizationId }) {
      let q = db.selectFrom('artifacts').selectAll().orderBy('id', 'asc');
      if (runId) q = q.where('run_id', '=', runId);
      if (optimizationId) q = q.where('parent_id', '=', optimizationId);
      return (await q.execute()).map(artifactFromRow);
    },
  };
}

function proposalFromRow(row: Selectable<ProposalsTable>): ProposalRecord {
  return {
    ...(JSON.parse(row.data) as Proposal),
    id: row.id,
    optimizationId: row.parent_id,
    runId: row.run_id,
    repoId: row.repo_id,
    createdAt: row.created_at,
  };
}

export function createProposalRepository(db: Kysely<Database>): ProposalRepository {
  return {
    async insert(p) {
      const { optimizationId, runId, repoId, createdAt, ...proposal } = p;
      await db
        .insertInto('proposals')
        .values({
          id: p.id,
          run_id: runId,
          parent_id: optimizationId,
          repo_id: repoId,
          rule: p.rule,
          file: p.file,
          speedup: p.speedup,
          data: JSON.stringify(proposal),
          created_at: createdAt,
        })
        // A retried propose stage stores the same proposals again.
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('proposals')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? proposalFromRow(row) : undefined;
    },
    async list({ repoId, optimizationId, before, limit }) {
      let q = db.selectFrom('proposals').selectAll().orderBy('id', 'desc').limit(limit);
      if (repoId) q = q.where('repo_id', '=', repoId);
      if (optimizationId) q = q.where('parent_id', '=', optimizationId);
      if (before) q = q.where('id', '<', before);
      return (await q.execute()).map(proposalFromRow);
    },
  };
}
