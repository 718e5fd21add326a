import { existsSync } from 'node:fs';
import { isPatchbayError, PatchbayError } from '../../contracts/index.js';
import type { Logger } from '../../observability/index.js';
import type { RunRecord } from '../../store/index.js';
import { createRunDirectory, git } from '../../workspaces/index.js';
import type { Conversations } from '../conversations.js';
import { createKeyedLock } from '../keyed-lock.js';
import { assertOptimizerAllowed, stageOf } from '../optimizations.js';
import type { createRunLauncher } from '../run-containment.js';
import type { createRunWorkspaces } from '../run-workspaces.js';
import { startRunSpans } from '../run-tracing.js';
import { UNREADABLE_SECRET } from '../../store/index.js';
import { assertArgvAllowed } from '../../agents/index.js';
import type { FinishingSystem } from './finishing.js';
import { createProcessRunner } from './process.js';
import type { ValidationSystem } from './validation.js';
import {
  agentContext,
  ensureTracked,
  now,
  type ActiveRun,
  type EngineResources,
} from './resources.js';

/**
 * Execution: a run the dispatcher gives this process is claimed (compare-and-set from
 * `queued`), gets its workspace (a worktree, the workspace of the run it follows, or a fresh
 * directory), and its process is run to the end (process.ts). One writer per workspace: a
 * follow-up run waits, still queued, for the runs before it.
 */
export function createExecutionSystem(
  res: EngineResources,
  deps: {
    conversations: Conversations;
    workspaces: ReturnType<typeof createRunWorkspaces>;
    launcher: ReturnType<typeof createRunLauncher>;
    finishing: FinishingSystem;
    validation: ValidationSystem;
  },
) {
  const { config, store, tracing, reporter, log: baseLog } = res;
  const { conversations, workspaces, finishing } = deps;
  const { gitOptions, createRunWorktree } = workspaces;
  const withWorkspaceLock = createKeyedLock();
  const runProcess = createProcessRunner(res, deps);

  async function executeRun(runId: string): Promise<void> {
    const log = baseLog.child({ runId });
    let finishedResolve!: () => void;
    const entry: ActiveRun = {
      proc: undefined,
      cancelRequested: false,
      interruptRequested: false,
      shuttingDown: false,
      requeueRequested: false,
      done: new Promise<void>((r) => (finishedResolve = r)),
    };
    const pre = await store.runs.get(runId).catch(() => undefined);
    const spans = pre && tracing.enabled ? startRunSpans(tracing, pre) : undefined;
    try {
      const execute = () =>
        withWorkspaceLock(pre?.workspaceOf ?? runId, () => claimAndRun(runId, entry, log));
      await (spans ? tracing.withSpan(spans.running, execute) : execute());
    } catch (err) {
      log.error({ err }, 'run failed unexpectedly');
      reporter.report(err, { tags: { runId, code: 'INTERNAL_ERROR' } });
      await finishing
        .finalize(runId, {
          status: 'failed',
          errorCode: 'INTERNAL_ERROR',
          errorMessage: (err as Error).message,
        })
        .catch((e: unknown) => log.error({ err: e }, 'could not record failure'));
    } finally {
      res.active.delete(runId);
      finishedResolve();
      if (spans) {
        const status = (await store.runs.get(runId).catch(() => undefined))?.status;
        if (status) spans.run.setAttribute('patchbay.run.status', status);
        spans.running.end();
        spans.run.end();
      }
    }
  }

  /**
   * Right before its process starts, every run passes PATCHBAY_ALLOWED_COMMANDS (it may have
   * been set since the run was queued), and its sealed env must open with this process's key.
   */
  async function assertLaunchAllowed(record: RunRecord): Promise<void> {
    const unreadable = Object.keys(record.env).filter((k) => record.env[k] === UNREADABLE_SECRET);
    if (unreadable.length > 0) {
      throw new PatchbayError('RUN_SECRETS_UNREADABLE', undefined, { envKeys: unreadable });
    }
    if (!config.allowedCommands) return;
    if (stageOf(record)) assertOptimizerAllowed(config.allowedCommands);
    else if (record.agent === 'shell' && record.command?.[0]) {
      await assertArgvAllowed(record.command, agentContext(config, record.env));
    }
  }

  /** The run's workspace: the one it follows, a new worktree of its repo, or a directory. */
  async function prepareWorkspace(record: RunRecord) {
    let worktree: { workdir: string; branch: string; baseCommit: string } | null = null;
    if (record.workspaceOf) {
      // A follow-up continues in the workspace of the run that made it (read now: that run
      // may not have started when this one was created), on its branch, from where the last
      // run left it.
      const leader = await store.runs.get(record.workspaceOf);
      if (!leader?.workdir || !existsSync(leader.workdir)) {
        throw new PatchbayError(
          'WORKSPACE_UNAVAILABLE',
          `the workspace of run ${record.workspaceOf} does not exist (${leader?.workdir ? 'it expired' : 'that run never started'})`,
          { workspaceOf: record.workspaceOf },
        );
      }
      const workdir = leader.workdir;
      if (leader.branch) {
        worktree = {
          workdir,
          branch: leader.branch,
          baseCommit: (await git(['rev-parse', 'HEAD'], workdir, gitOptions)).trim(),
        };
      }
      return { workdir, worktree };
    }
    if (record.repoId && record.kind === 'agent') {
      worktree = await createRunWorktree(record);
      return { workdir: worktree.workdir, worktree };
    }
    const workdir =
      record.workdir ?? (await createRunDirectory(config.workspaceRoots[0]!, record.id));
    return { workdir, worktree };
  }

  async function claimAndRun(runId: string, entry: ActiveRun, log: Logger): Promise<void> {
    const claimed = await res.withRunLock(runId, async () => {
      const record = await store.runs.get(runId);
      if (!record || record.status !== 'queued') return null;
      let prepared: Awaited<ReturnType<typeof prepareWorkspace>>;
      try {
        await assertLaunchAllowed(record);
        prepared = await prepareWorkspace(record);
      } catch (err) {
        await failQueued(runId, err);
        return null;
      }
      const { workdir, worktree } = prepared;
      const session = record.conversationId ? await conversations.beforeStart(record) : {};
      const sandbox = config.sandbox;
      const ok = await store.runs.transition(runId, ['queued'], {
        status: 'running',
        startedAt: now(),
        owner: res.owner,
        workdir,
        sandbox,
        ...(worktree ? { branch: worktree.branch, baseCommit: worktree.baseCommit } : {}),
        ...session,
      });
      if (!ok) return null;
      res.active.set(runId, entry);
      await ensureTracked(res, runId);
      return { ...record, workdir, sandbox, ...worktree, ...session };
    });
    if (!claimed) return;
    await runProcess(claimed, entry, log);
  }

  /** A queued run that cannot start (its worktree could not be made) fails at once. */
  async function failQueued(runId: string, err: unknown): Promise<void> {
    const pe = isPatchbayError(err)
      ? err
      : new PatchbayError('REPO_REF_NOT_FOUND', (err as Error).message);
    await finishing.endWithoutProcess(runId, ['queued'], 'failed', {
      code: pe.code,
      message: pe.message,
    });
  }

  return { executeRun };
}

export type ExecutionSystem = ReturnType<typeof createExecutionSystem>;
