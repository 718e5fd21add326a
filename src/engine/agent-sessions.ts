/**
 * What the server keeps for an agent that has no state of its own outside the run (the
 * built-in llm agent): the model calls it reports, written to the ledger under the run, and
 * its session's transcript, stored as an artifact of each run and handed back on resume.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AgentLlmCall } from '../agents/index.js';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { ulid, type RunRecord, type Store } from '../store/index.js';

/**
 * The ledger rows of one run's calls. The child cannot write the database (it runs sandboxed,
 * with the model's keys but no store): its calls reach the ledger through its own stream,
 * under the run id and repository the server knows, never ones the child names.
 */
export function createRunLedgerWriter(store: Store, record: RunRecord, log: Logger) {
  const pending: Promise<void>[] = [];
  return {
    write(call: AgentLlmCall): void {
      pending.push(
        store.llmCalls
          .insert({ ...call, id: `llm_${ulid()}`, runId: record.id, repoId: record.repoId })
          .catch((err: unknown) => log.error({ err }, 'llm call not recorded')),
      );
    },
    /** Every row written (before the run's end is, so a client that saw it finds them). */
    async flushed(): Promise<void> {
      await Promise.all(pending);
    },
  };
}

async function readArtifactJson(dataDir: string, path: string): Promise<unknown> {
  return JSON.parse(await readFile(join(dataDir, 'artifacts', path), 'utf8')) as unknown;
}

/**
 * The transcript of the session a run resumes: the one stored by the session's last run.
 * @throws PatchbayError AGENT_SESSION_NOT_FOUND when no run of this agent stored it.
 */
export async function loadSessionMessages(
  deps: { store: Store; dataDir: string },
  record: RunRecord,
  artifactName: string,
): Promise<unknown[]> {
  const sessionId = record.resumeSessionId!;
  const previous = await deps.store.runs.lastOfSession(record.agent, sessionId, record.id);
  const artifact = previous
    ? (await deps.store.artifacts.list({ runId: previous.id })).find((a) => a.name === artifactName)
    : undefined;
  if (!artifact) {
    throw new PatchbayError(
      'AGENT_SESSION_NOT_FOUND',
      `no ${record.agent} session ${sessionId} is stored here (its runs kept no transcript)`,
      { sessionId },
    );
  }
  const messages = await readArtifactJson(deps.dataDir, artifact.path).catch(() => null);
  if (!Array.isArray(messages)) {
    throw new PatchbayError(
      'AGENT_SESSION_NOT_FOUND',
      `the transcript of session ${sessionId} is unreadable`,
      { sessionId },
    );
  }
  return messages;
}

/** Stores the session's whole transcript so far (what it resumed, then this run's messages). */
export async function storeSessionMessages(
  deps: { store: Store; dataDir: string },
  record: RunRecord,
  artifactName: string,
  messages: unknown[],
): Promise<{ id: string; name: string; bytes: number }> {
  const data = Buffer.from(JSON.stringify(messages));
  const id = `art_${ulid()}`;
  const path = join(id, artifactName);
  const to = join(deps.dataDir, 'artifacts', path);
  await mkdir(dirname(to), { recursive: true });
  await writeFile(to, data);
  await deps.store.artifacts.insert({
    id,
    runId: record.id,
    optimizationId: null,
    repoId: record.repoId,
    name: artifactName,
    path,
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    contentType: 'application/json',
    createdAt: new Date().toISOString(),
  });
  return { id, name: artifactName, bytes: data.length };
}
