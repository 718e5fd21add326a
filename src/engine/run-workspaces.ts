import { existsSync } from 'node:fs';
import { mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import { isTerminalStatus, PatchbayError } from '../contracts/index.js';
import { withCoAuthors, type CommitAuthorship } from '../github/index.js';
import type { Logger } from '../observability/index.js';
import type { RunPatch, RunRecord, Store } from '../store/index.js';
import { commitAll, createWorktree, diffAgainstBase, git } from '../workspaces/index.js';

/** Where a repository run's diff is kept once it has ended (the API and the CLI read it). */
export const runDiffPath = (dataDir: string, runId: string): string =>
  join(dataDir, 'artifacts', `${runId}.diff`);

/**
 * The workspaces of repository runs: a worktree per run (or per chain of follow-up runs),
 * the record of what a run changed, and the sweep that removes expired workspaces.
 */
export function createRunWorkspaces(deps: {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  /** Who the run's commit is by, when not Patchbay (a GitHub App's bot; see github/identity). */
  authorship?: (record: RunRecord) => Promise<CommitAuthorship | undefined>;
}) {
  const { config, store, log } = deps;
  const gitOptions = { env: config.childEnvBase, timeoutMs: config.cloneTimeoutMs };
  const diffPath = (runId: string): string => runDiffPath(config.dataDir, runId);

  /** A worktree of the run's repository on branch patchbay/<run id>, at the requested ref. */
  async function createRunWorktree(record: RunRecord) {
    const repo = await store.repos.get(record.repoId!);
    if (!repo) throw new PatchbayError('REPO_NOT_FOUND', `no repository ${record.repoId}`);
    const path = join(config.dataDir, 'worktrees', record.id);
    await mkdir(dirname(path), { recursive: true });
    const branch = `patchbay/${record.id}`;
    if (record.attempt > 1 && existsSync(path)) {
      // A retry starts over: what the lost attempt left behind goes, branch included.
      await git(['worktree', 'remove', '--force', path], repo.path, gitOptions).catch(() => '');
      await git(['branch', '-D', branch], repo.path, gitOptions).catch(() => '');
    }
    const { baseCommit } = await createWorktree(
      repo.path,
      path,
      branch,
      record.ref ?? repo.defaultBranch,
      gitOptions,
    );
    return { workdir: await realpath(path), branch, baseCommit };
  }

  /** The diff against the base commit (kept as an artifact), the changed files, the commit. */
  async function recordChanges(record: RunRecord, runLog: Logger): Promise<RunPatch> {
    try {
      const { diff, files } = await diffAgainstBase(
        record.workdir!,
        record.baseCommit!,
        gitOptions,
      );
      await mkdir(dirname(diffPath(record.id)), { recursive: true });
      await writeFile(diffPath(record.id), diff);
      let headCommit: string | null = null;
      if (record.autoCommit && files.length > 0) {
        const by = await deps.authorship?.(record);
        headCommit = await commitAll(
          record.workdir!,
          withCoAuthors(`patchbay: changes of run ${record.id}`, by?.coAuthors ?? []),
          gitOptions,
          ['.'],
          by?.author,
        );
      }
      return { changedFiles: files, headCommit };
    } catch (err) {
      runLog.error({ err }, 'could not record the run changes');
      return {};
    }
  }

  /** Removes workspaces whose runs all ended over PATCHBAY_WORKSPACE_TTL_MS ago (see Engine). */
  async function sweepWorkspaces(): Promise<string[]> {
    const cutoff = new Date(Date.now() - config.workspaceTtlMs).toISOString();
    const swept: string[] = [];
    for (const record of await store.runs.listFinishedBefore(cutoff)) {
      if (record.workspaceOf || !isTerminalStatus(record.status) || !record.workdir) continue;
      const followUps = await store.runs.listByWorkspace(record.id);
      if (followUps.some((r) => !isTerminalStatus(r.status) || (r.finishedAt ?? '') >= cutoff))
        continue;
      try {
        if (record.repoId && record.branch) {
          const repo = await store.repos.get(record.repoId);
          if (!repo || !existsSync(record.workdir)) continue;
          await git(['worktree', 'remove', '--force', record.workdir], repo.path, gitOptions);
          const pushed = await git(
            ['branch', '-r', '--contains', record.branch],
            repo.path,
            gitOptions,
          );
          if (!pushed.trim()) await git(['branch', '-D', record.branch], repo.path, gitOptions);
        } else if (
          record.workdir === join(config.workspaceRoots[0]!, record.id) &&
          existsSync(record.workdir)
        ) {
          await rm(record.workdir, { recursive: true, force: true });
        } else {
          continue;
        }
        swept.push(record.id);
      } catch (err) {
        log.warn({ err, runId: record.id }, 'could not remove an expired workspace');
      }
    }
    if (swept.length > 0) log.info({ count: swept.length }, 'expired workspaces removed');
    return swept;
  }

  return { gitOptions, diffPath, createRunWorktree, recordChanges, sweepWorkspaces };
}
