import type { Kysely, Selectable, Transaction } from 'kysely';
import type {
  Horizon,
  InboxConnectorKind,
  ScoreInputs,
  TaskAuditEvent,
  TaskMerge,
  TaskPerson,
  TaskState,
} from '../contracts/index.js';
import { historyOf, type TriageFields, type TriageSnapshot } from './inbox-history.js';
import { ulid } from './ids.js';
import type { Database } from './schema.js';
import type { InboxTasksTable } from './schema-inbox.js';

/** Identifiers of a task as normalised from its items (see SourceItem.identifiers). */
export interface TaskIdentifiers {
  threadId?: string;
  messageId?: string;
  inReplyTo?: readonly string[];
  issueKey?: string;
  urls?: readonly string[];
}

/** A task as stored. */
export interface TaskRecord extends TriageFields {
  id: string;
  kind: InboxConnectorKind;
  sourceRef: string;
  url: string | null;
  title: string;
  snippet: string;
  people: TaskPerson[];
  labels: string[];
  identifiers: TaskIdentifiers;
  mentions: string[];
  dueAt: string | null;
  priority: string | null;
  asksUser: boolean;
  waitingOnUser: boolean;
  sourceCreatedAt: string;
  sourceUpdatedAt: string;
  score: number;
  scoreInputs: ScoreInputs;
  horizonProposed: Horizon;
  /** Undo history, newest last: each entry the triage fields before one action. */
  history: TriageSnapshot[];
  suggestedDuplicateOf: string | null;
  suggestedSimilarity: number | null;
  archived: boolean;
  runId: string | null;
  prUrl: string | null;
  completeOnSuccess: boolean;
  /** The LLM pass's suggestion; read here, written only by `setAi` (never by `save`). */
  ai?: TaskAiSuggestion | null;
  createdAt: string;
  updatedAt: string;
}

/** A model's summary and labels of a task (issue 19): shown, never ranked on. */
export interface TaskAiSuggestion {
  summary: string;
  labels: string[];
  /** A digest of the text the model read: the task is asked again when it differs. */
  basis: string;
  provider: string;
  model: string;
  at: string;
}

/** One source item of a task (a merged task has several). `item` is the SourceItem as synced. */
export interface TaskSourceRecord {
  kind: InboxConnectorKind;
  ref: string;
  taskId: string;
  item: Record<string, unknown>;
  removed: boolean;
  updatedAt: string;
}

export interface MergeRecord extends TaskMerge {
  /** The merged task as it was, and the source refs it had. */
  snapshot: { task: TaskRecord; sources: Array<{ kind: string; ref: string }> };
}

export type EdgeKind = 'reply' | 'issue_link' | 'mention';

export interface TaskRepository {
  insert(task: TaskRecord): Promise<void>;
  /** Replaces every field of the stored task. */
  save(task: TaskRecord): Promise<void>;
  get(id: string): Promise<TaskRecord | undefined>;
  /** Every task not archived (archived ones too with `archived`), oldest first. */
  list(options?: { archived?: boolean }): Promise<TaskRecord[]>;
  findByRun(runId: string): Promise<TaskRecord | undefined>;
  /** Stores the LLM pass's suggestion of a task (its only writer). */
  setAi(id: string, ai: TaskAiSuggestion | null): Promise<void>;
  deleteAll(): Promise<void>;

  upsertSource(source: TaskSourceRecord, identifiers: readonly string[]): Promise<void>;
  getSource(kind: string, ref: string): Promise<TaskSourceRecord | undefined>;
  listSources(taskId: string): Promise<TaskSourceRecord[]>;
  /** The sources of several tasks in one query, by task id (each oldest change first). */
  listSourcesOf(taskIds: readonly string[]): Promise<Map<string, TaskSourceRecord[]>>;
  /** Moves sources `refs` (default all) of task `from` to task `to`. */
  moveSources(
    from: string,
    to: string,
    refs?: ReadonlyArray<{ kind: string; ref: string }>,
  ): Promise<void>;
  /** Tasks whose sources carry any of these identifier values (`thread:…`, `msg:…`, …). */
  tasksWithIdentifiers(values: readonly string[]): Promise<Map<string, string[]>>;

  insertMerge(merge: MergeRecord): Promise<void>;
  getMerge(id: string): Promise<MergeRecord | undefined>;
  listMerges(taskId: string): Promise<MergeRecord[]>;
  markMergeUndone(id: string, at: string): Promise<boolean>;

  audit(
    taskId: string,
    action: string,
    from: string | null,
    to: string | null,
    detail?: Record<string, unknown>,
  ): Promise<void>;
  listAudit(taskId: string): Promise<TaskAuditEvent[]>;

  addEdge(from: string, to: string, kind: EdgeKind): Promise<void>;
  listEdges(): Promise<Array<{ from: string; to: string; kind: EdgeKind }>>;
  /** Points edges at task `from` to task `to` (a merge), or back. */
  moveEdges(from: string, to: string): Promise<void>;

  /** Learned weights: `sender` (an email or handle) and `source` (a connector kind). */
  affinity(scope: 'sender' | 'source'): Promise<Map<string, number>>;
  /** Moves a weight by `delta` within −3 … 3; resolves with how far it really moved. */
  adjustAffinity(scope: 'sender' | 'source', key: string, delta: number): Promise<number>;
  /** Deletes every edge from or to these tasks (they are derived again from mentions). */
  deleteEdgesOf(taskIds: readonly string[]): Promise<void>;

  threshold(
    embedder: string,
  ): Promise<{ merge: number; suggest: number; pairs: number } | undefined>;
  saveThreshold(
    embedder: string,
    t: { merge: number; suggest: number; pairs: number },
  ): Promise<void>;
}

const json = (v: unknown): string => JSON.stringify(v);

function toRow(t: TaskRecord): Omit<Selectable<InboxTasksTable>, 'ai'> {
  return {
    id: t.id,
    kind: t.kind,
    source_ref: t.sourceRef,
    url: t.url,
    title: t.title,
    snippet: t.snippet,
    people: json(t.people),
    labels: json(t.labels),
    identifiers: json(t.identifiers),
    mentions: json(t.mentions),
    due_at: t.dueAt,
    priority: t.priority,
    asks_user: t.asksUser ? 1 : 0,
    waiting_on_user: t.waitingOnUser ? 1 : 0,
    source_created_at: t.sourceCreatedAt,
    source_updated_at: t.sourceUpdatedAt,
    score: t.score,
    score_inputs: json(t.scoreInputs),
    horizon_proposed: t.horizonProposed,
    horizon_override: t.horizonOverride,
    state: t.state,
    snoozed_until: t.snoozedUntil,
    duplicate_of: t.duplicateOf,
    previous: t.history.length > 0 ? json(t.history) : null,
    suggested_duplicate_of: t.suggestedDuplicateOf,
    suggested_similarity: t.suggestedSimilarity,
    archived: t.archived ? 1 : 0,
    run_id: t.runId,
    pr_url: t.prUrl,
    complete_on_success: t.completeOnSuccess ? 1 : 0,
    done_at: t.doneAt,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

function fromRow(r: Selectable<InboxTasksTable>): TaskRecord {
  return {
    id: r.id,
    kind: r.kind as InboxConnectorKind,
    sourceRef: r.source_ref,
    url: r.url,
    title: r.title,
    snippet: r.snippet,
    people: JSON.parse(r.people) as TaskPerson[],
    labels: JSON.parse(r.labels) as string[],
    identifiers: JSON.parse(r.identifiers) as TaskIdentifiers,
    mentions: JSON.parse(r.mentions) as string[],
    dueAt: r.due_at,
    priority: r.priority,
    asksUser: Number(r.asks_user) === 1,
    waitingOnUser: Number(r.waiting_on_user) === 1,
    sourceCreatedAt: r.source_created_at,
    sourceUpdatedAt: r.source_updated_at,
    score: Number(r.score),
    scoreInputs: JSON.parse(r.score_inputs) as ScoreInputs,
    horizonProposed: r.horizon_proposed as Horizon,
    horizonOverride: r.horizon_override as Horizon | null,
    state: r.state as TaskState,
    snoozedUntil: r.snoozed_until,
    duplicateOf: r.duplicate_of,
    history: historyOf(r.previous),
    suggestedDuplicateOf: r.suggested_duplicate_of,
    suggestedSimilarity: r.suggested_similarity === null ? null : Number(r.suggested_similarity),
    archived: Number(r.archived) === 1,
    runId: r.run_id,
    prUrl: r.pr_url,
    completeOnSuccess: Number(r.complete_on_success) === 1,
    ai: r.ai ? (JSON.parse(r.ai) as TaskAiSuggestion) : null,
    doneAt: r.done_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function mergeOf(r: Selectable<Database['inbox_merges']>): MergeRecord {
  return {
    id: r.id,
    intoTaskId: r.into_task_id,
    fromTaskId: r.from_task_id,
    method: r.method as MergeRecord['method'],
    similarity: r.similarity === null ? null : Number(r.similarity),
    snapshot: JSON.parse(r.snapshot) as MergeRecord['snapshot'],
    createdAt: r.created_at,
    undoneAt: r.undone_at,
  };
}

export function createTaskRepository(db: Kysely<Database>): TaskRepository {
  const sourceOf = (r: Selectable<Database['inbox_task_sources']>): TaskSourceRecord => ({
    kind: r.kind as InboxConnectorKind,
    ref: r.ref,
    taskId: r.task_id,
    item: JSON.parse(r.item) as Record<string, unknown>,
    removed: Number(r.removed) === 1,
    updatedAt: r.updated_at,
  });
  return {
    async insert(task) {
      await db.insertInto('inbox_tasks').values(toRow(task)).execute();
    },
    async save(task) {
      const { id, ...rest } = toRow(task);
      await db.updateTable('inbox_tasks').set(rest).where('id', '=', id).execute();
    },
    async setAi(id, ai) {
      await db
        .updateTable('inbox_tasks')
        .set({ ai: ai ? json(ai) : null })
        .where('id', '=', id)
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('inbox_tasks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list(options = {}) {
      let q = db.selectFrom('inbox_tasks').selectAll();
      if (!options.archived) q = q.where('archived', '=', 0);
      return (await q.orderBy('id', 'asc').execute()).map(fromRow);
    },
    async findByRun(runId) {
      const row = await db
        .selectFrom('inbox_tasks')
        .selectAll()
        .where('run_id', '=', runId)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async deleteAll() {
      await db.transaction().execute(async (tx) => {
        for (const table of [
          'inbox_tasks',
          'inbox_task_sources',
          'inbox_identifiers',
          'inbox_merges',
          'inbox_audit',
          'inbox_edges',
        ] as const) {
          await tx.deleteFrom(table).execute();
        }
      });
    },
    async upsertSource(source, identifiers) {
      await db.transaction().execute(async (tx: Transaction<Database>) => {
        const values = {
          kind: source.kind,
          ref: source.ref,
          task_id: source.taskId,
          item: json(source.item),
          removed: source.removed ? 1 : 0,
          updated_at: source.updatedAt,
        };
        await tx
          .insertInto('inbox_task_sources')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['kind', 'ref']).doUpdateSet({
              task_id: values.task_id,
              item: values.item,
              removed: values.removed,
              updated_at: values.updated_at,
            }),
          )
          .execute();
        await tx
          .deleteFrom('inbox_identifiers')
          .where('kind', '=', source.kind)
          .where('ref', '=', source.ref)
          .execute();
        const unique = [...new Set(identifiers)];
        if (unique.length > 0) {
          await tx
            .insertInto('inbox_identifiers')
            .values(unique.map((value) => ({ value, kind: source.kind, ref: source.ref })))
            .execute();
        }
      });
    },
    async getSource(kind, ref) {
      const row = await db
        .selectFrom('inbox_task_sources')
        .selectAll()
        .where('kind', '=', kind)
        .where('ref', '=', ref)
        .executeTakeFirst();
      return row ? sourceOf(row) : undefined;
    },
    async listSources(taskId) {
      const rows = await db
        .selectFrom('inbox_task_sources')
        .selectAll()
        .where('task_id', '=', taskId)
        .orderBy('updated_at', 'asc')
        .execute();
      return rows.map(sourceOf);
    },
    async listSourcesOf(taskIds) {
      const out = new Map<string, TaskSourceRecord[]>();
      for (const id of taskIds) out.set(id, []);
      if (taskIds.length === 0) return out;
      const rows = await db
        .selectFrom('inbox_task_sources')
        .selectAll()
        .where('task_id', 'in', [...taskIds])
        .orderBy('updated_at', 'asc')
        .execute();
      for (const row of rows) out.get(row.task_id)?.push(sourceOf(row));
      return out;
    },
    async moveSources(from, to, refs) {
      if (!refs) {
        await db
          .updateTable('inbox_task_sources')
          .set({ task_id: to })
          .where('task_id', '=', from)
          .execute();
        return;
      }
      for (const r of refs) {
        await db
          .updateTable('inbox_task_sources')
          .set({ task_id: to })
          .where('kind', '=', r.kind)
          .where('ref', '=', r.ref)
          .execute();
      }
    },
    async tasksWithIdentifiers(values) {
      const out = new Map<string, string[]>();
      if (values.length === 0) return out;
      const rows = await db
        .selectFrom('inbox_identifiers as i')
        .innerJoin('inbox_task_sources as s', (j) =>
          j.onRef('s.kind', '=', 'i.kind').onRef('s.ref', '=', 'i.ref'),
        )
        .select(['i.value', 's.task_id'])
        .where('i.value', 'in', [...new Set(values)])
        .where('s.removed', '=', 0)
        .execute();
      for (const row of rows) {
        const list = out.get(row.task_id) ?? [];
        if (!list.includes(row.value)) list.push(row.value);
        out.set(row.task_id, list);
      }
      return out;
    },
    async insertMerge(m) {
      await db
        .insertInto('inbox_merges')
        .values({
          id: m.id,
          into_task_id: m.intoTaskId,
          from_task_id: m.fromTaskId,
          method: m.method,
          similarity: m.similarity,
          snapshot: json(m.snapshot),
          created_at: m.createdAt,
          undone_at: m.undoneAt,
        })
        .execute();
    },
    async getMerge(id) {
      const row = await db
        .selectFrom('inbox_merges')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? mergeOf(row) : undefined;
    },
    async listMerges(taskId) {
      const rows = await db
        .selectFrom('inbox_merges')
        .selectAll()
        .where((eb) => eb.or([eb('into_task_id', '=', taskId), eb('from_task_id', '=', taskId)]))
        .orderBy('id', 'asc')
        .execute();
      return rows.map(mergeOf);
    },
    async markMergeUndone(id, at) {
      const result = await db
        .updateTable('inbox_merges')
        .set({ undone_at: at })
        .where('id', '=', id)
        .where('undone_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async audit(taskId, action, from, to, detail) {
      await db
        .insertInto('inbox_audit')
        .values({
          id: `aud_${ulid()}`,
          task_id: taskId,
          action,
          from_state: from,
          to_state: to,
          detail: detail ? json(detail) : null,
          at: new Date().toISOString(),
        })
        .execute();
    },
    async listAudit(taskId) {
      const rows = await db
        .selectFrom('inbox_audit')
        .selectAll()
        .where('task_id', '=', taskId)
        .orderBy('id', 'asc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        action: r.action,
        fromState: r.from_state,
        toState: r.to_state,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        at: r.at,
      }));
    },
    async addEdge(from, to, kind) {
      if (from === to) return;
      await db
        .insertInto('inbox_edges')
        .values({ from_task_id: from, to_task_id: to, kind, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['from_task_id', 'to_task_id', 'kind']).doNothing())
        .execute();
    },
    async listEdges() {
      const rows = await db.selectFrom('inbox_edges').selectAll().execute();
      return rows.map((r) => ({
        from: r.from_task_id,
        to: r.to_task_id,
        kind: r.kind as EdgeKind,
      }));
    },
    async moveEdges(from, to) {
      const rows = await db
        .selectFrom('inbox_edges')
        .selectAll()
        .where((eb) => eb.or([eb('from_task_id', '=', from), eb('to_task_id', '=', from)]))
        .execute();
      for (const r of rows) {
        await db
          .deleteFrom('inbox_edges')
          .where('from_task_id', '=', r.from_task_id)
          .where('to_task_id', '=', r.to_task_id)
          .where('kind', '=', r.kind)
          .execute();
        const a = r.from_task_id === from ? to : r.from_task_id;
        const b = r.to_task_id === from ? to : r.to_task_id;
        if (a !== b) await this.addEdge(a, b, r.kind as EdgeKind);
      }
    },
    async affinity(scope) {
      const rows = await db
        .selectFrom('inbox_affinity')
        .selectAll()
        .where('scope', '=', scope)
        .execute();
      return new Map(rows.map((r) => [r.key, Number(r.weight)]));
    },
    async adjustAffinity(scope, key, delta) {
      const now = new Date().toISOString();
      return db.transaction().execute(async (tx) => {
        const row = await tx
          .selectFrom('inbox_affinity')
          .select('weight')
          .where('scope', '=', scope)
          .where('key', '=', key)
          .executeTakeFirst();
        // Bounded, so no sender or source can outweigh every other signal.
        // Rounded to 1e-9, so that moving a weight and moving it back (an undo) gives the very
        // same number, not one a float rounding away; a weight back at 0 is no row at all.
        const round = (x: number): number => Math.round(x * 1e9) / 1e9;
        const before = Number(row?.weight ?? 0);
        const weight = round(Math.max(-3, Math.min(3, before + delta)));
        if (weight === 0) {
          await tx
            .deleteFrom('inbox_affinity')
            .where('scope', '=', scope)
            .where('key', '=', key)
            .execute();
        } else {
          await tx
            .insertInto('inbox_affinity')
            .values({ scope, key, weight, updated_at: now })
            .onConflict((oc) =>
              oc.columns(['scope', 'key']).doUpdateSet({ weight, updated_at: now }),
            )
            .execute();
        }
        return round(weight - before);
      });
    },
    async deleteEdgesOf(taskIds) {
      if (taskIds.length === 0) return;
      await db
        .deleteFrom('inbox_edges')
        .where((eb) =>
          eb.or([eb('from_task_id', 'in', [...taskIds]), eb('to_task_id', 'in', [...taskIds])]),
        )
        .execute();
    },
    async threshold(embedder) {
      const row = await db
        .selectFrom('inbox_thresholds')
        .selectAll()
        .where('embedder', '=', embedder)
        .executeTakeFirst();
      return row
        ? {
            merge: Number(row.merge_threshold),
            suggest: Number(row.suggest_threshold),
            pairs: Number(row.pairs),
          }
        : undefined;
    },
    async saveThreshold(embedder, t) {
      const values = {
        embedder,
        merge_threshold: t.merge,
        suggest_threshold: t.suggest,
        pairs: t.pairs,
        calibrated_at: new Date().toISOString(),
      };
      await db
        .insertInto('inbox_thresholds')
        .values(values)
        .onConflict((oc) =>
          oc.column('embedder').doUpdateSet({
            merge_threshold: values.merge_threshold,
            suggest_threshold: values.suggest_threshold,
            pairs: values.pairs,
            calibrated_at: values.calibrated_at,
          }),
        )
        .execute();
    },
  };
}
