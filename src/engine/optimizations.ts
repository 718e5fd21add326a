import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LlmCallLine,
  llmCallUsageEvent,
  type AgentFacts,
  type NormalizedEvent,
  type StreamParser,
} from '../agents/index.js';
import {
  isErrorCode,
  PatchbayError,
  optimizeStageArtifacts,
  OptimizeStage,
  Proposal,
  type OptimizeRequest,
  type RunKind,
} from '../contracts/index.js';
import type { ArtifactRecord, RunRecord, Store } from '../store/index.js';
import { ulid } from '../store/index.js';
import { PACKAGE_NAME } from '../config/index.js';

/**
 * Optimizations as runs: each stage of `POST /v1/repos/:id/optimize` is a run of kind
 * `optimize.<stage>` in the directory of the first (`workspaceOf`), started as
 * `patchbay optimize-stage <stage>` in its own process (supervised, cancellable and streamed
 * like any run), and queued only when the stage before it succeeded.
 */

/** The stage a run is, or null for an agent run. */
export function stageOf(record: Pick<RunRecord, 'kind'>): OptimizeStage | null {
  return record.kind.startsWith('optimize.')
    ? (record.kind.slice('optimize.'.length) as OptimizeStage)
    : null;
}

export const stageKind = (stage: OptimizeStage): RunKind => `optimize.${stage}`;

/** What is stored as the stage run's command; `patchbay` is resolved on the host that runs it. */
export function stageCommand(
  stage: OptimizeStage,
  first?: { source: string; ref: string; request: OptimizeRequest },
  llm = first?.request.llm === true,
): string[] {
  // With the model on, the stage reads the model settings (keys included) from stdin.
  const command = ['patchbay', 'optimize-stage', stage, '--dir', '.', ...(llm ? [LLM_FLAG] : [])];
  if (!first) return command;
  const { ref: _ref, queue: _queue, ...settings } = first.request;
  return [
    ...command,
    '--source',
    first.source,
    '--ref',
    first.ref,
    '--settings',
    JSON.stringify(settings),
  ];
}

/**
 * The optimizer runs the repository's own install, build, test and bench commands through
 * `sh -c`: with PATCHBAY_ALLOWED_COMMANDS set, that is allowed only when `sh` itself is, since
 * a shell runs anything. Checked when an optimization starts and again when each stage starts.
 * @throws PatchbayError COMMAND_NOT_ALLOWED
 */
export function assertOptimizerAllowed(allowedCommands: string[] | undefined): void {
  if (!allowedCommands || allowedCommands.includes('sh')) return;
  throw new PatchbayError(
    'COMMAND_NOT_ALLOWED',
    `the optimizer runs the repository's install, build, test and bench commands with \`sh -c\`, and \`sh\` is not an allowed command (allowed: ${allowedCommands.join(', ')}); add sh to PATCHBAY_ALLOWED_COMMANDS to allow optimizations`,
    { executable: 'sh', allowed: allowedCommands },
  );
}

/** The stage after this one, or null after `propose`. */
export function nextStage(stage: OptimizeStage): OptimizeStage | null {
  const all = OptimizeStage.options;
  return all[all.indexOf(stage) + 1] ?? null;
}

let self: string[] | undefined;

/**
 * How this installation starts itself: node without the launcher's memory flags (the
 * optimizer's parser wants the optimizing compiler) and the package's bin script, found from
 * this module's place in the package (the bundle or the compiled or source modules alike).
 */
export function selfArgv(): string[] {
  if (self) return self;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'bin', 'patchbay.js'))) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === PACKAGE_NAME) break;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the patchbay package this module belongs to');
    dir = up;
  }
  self = [process.execPath, join(dir, 'bin', 'patchbay.js')];
  return self;
}

/** The argv of a stage run on this host. */
/** The stage flag that says its first stdin line holds the model settings. */
export const LLM_FLAG = '--settings-stdin';

export function stageArgv(record: Pick<RunRecord, 'command'>): string[] {
  return [...selfArgv(), ...(record.command ?? []).slice(1)];
}

/**
 * Reads `patchbay optimize-stage` NDJSON: `progress` lines become progress events, `error` the
 * run's error (its code, e.g. OPTIMIZE_BASELINE_FAILED, becomes the run's), `result` the end.
 */
export function createStageParser(): StreamParser {
  const facts: AgentFacts = { finished: false, isError: false };
  return {
    facts,
    line(raw) {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return [{ type: 'output', data: { stream: 'stdout', text: `${raw}\n` }, raw }];
      }
      const { type, ...data } = msg;
      const events: NormalizedEvent[] = [];
      if (type === 'progress') {
        events.push({ type: 'progress', data, raw });
      } else if (type === 'error') {
        facts.finished = true;
        facts.isError = true;
        if (isErrorCode(data.code)) facts.errorCode = data.code;
        facts.errorMessage = String(data.message ?? data.code);
        events.push({
          type: 'error',
          data: { code: data.code, message: data.message, details: data.details },
          raw,
        });
      } else if (type === 'llm_call' && LlmCallLine.safeParse(msg).success) {
        // A model call of the stage (`llm: true`): a usage event carrying the ledger's row
        // (written by the engine, which owns the store; the stage process has no database).
        events.push(llmCallUsageEvent(LlmCallLine.parse(msg), raw));
      } else if (type === 'result') {
        facts.finished = true;
        facts.resultText = `${String(data.stage)} done`;
        events.push({ type: 'result', data: { ok: true, text: facts.resultText }, raw });
      } else {
        events.push({ type: 'output', data: { stream: 'stdout', text: `${raw}\n` }, raw });
      }
      return events;
    },
    end: () => [],
  };
}

const contentTypes: Record<string, string> = {
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Copies what a stage left in `artifacts/` out of its workspace (which expires) into
 * `<dataDir>/artifacts/<id>/`, records each, and for `propose` records the proposals too.
 * Returns the artifacts stored.
 */
export async function storeStageOutputs(
  record: RunRecord,
  deps: { store: Store; dataDir: string },
): Promise<ArtifactRecord[]> {
  const stage = stageOf(record);
  if (!stage || !record.workdir) return [];
  const optimizationId = record.parentId ?? record.id;
  const stored: ArtifactRecord[] = [];
  let proposals: Buffer | undefined;
  for (const name of optimizeStageArtifacts[stage]) {
    const from = join(record.workdir, 'artifacts', name);
    if (!existsSync(from)) continue;
    // Read once: written out, counted and hashed from the same bytes.
    const data = await readFile(from);
    const id = `art_${ulid()}`;
    const path = join(id, name);
    const to = join(deps.dataDir, 'artifacts', path);
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, data);
    const artifact: ArtifactRecord = {
      id,
      runId: record.id,
      optimizationId,
      repoId: record.repoId,
      name,
      path,
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      contentType: contentTypes[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
      createdAt: new Date().toISOString(),
    };
    await deps.store.artifacts.insert(artifact);
    stored.push(artifact);
    if (name === 'proposals.json') proposals = data;
  }
  if (stage === 'propose' && proposals) {
    const list = Proposal.array().parse(JSON.parse(proposals.toString('utf8')));
    for (const proposal of list) {
      await deps.store.proposals.insert({
        ...proposal,
        // Unique per optimization (the same rewrite may be proven again by a later one), and
        // the same when a retried stage stores it again.
        id: `prop_${createHash('sha256').update(`${optimizationId}/${proposal.id}`).digest('hex').slice(0, 20)}`,
        optimizationId,
        runId: record.id,
        repoId: record.repoId,
        createdAt: new Date().toISOString(),
      });
    }
  }
  return stored;
}
