import { realpath } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { findExecutable, type AgentAdapter } from '../agents/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { PatchbayError } from '../contracts/index.js';
import {
  pidNamespaceArgv,
  probePidNamespace,
  type Containment,
  type PidNamespace,
} from '../exec/index.js';
import type { Logger } from '../observability/index.js';
import type { RunRecord, Store } from '../store/index.js';
import { bwrapArgv, prepareAgentState, probeBwrap } from '../workspaces/index.js';
import { selfArgv, stageArgv, stageOf } from './optimizations.js';

/** Which containment this configuration gets on this machine, and how it was decided. */
export interface ResolvedContainment {
  kind: Containment;
  /** For `pidns`: the wrapper. */
  pidns?: PidNamespace;
  /** One line for `patchbay doctor` and the boot log. */
  detail: string;
}

type ContainmentConfig = Pick<
  ResolvedConfig,
  'sandbox' | 'sandboxBwrapBin' | 'runContainment' | 'childEnvBase'
>;

/**
 * Decides how runs are contained: the bwrap sandbox when it is on (its PID namespace),
 * otherwise a PID namespace from `unshare` unless PATCHBAY_RUN_CONTAINMENT=none. Fails closed:
 * SANDBOX_UNAVAILABLE or RUN_CONTAINMENT_UNAVAILABLE when what the configuration demands is
 * not available; `auto` falls back to the process group alone.
 */
export async function resolveContainment(config: ContainmentConfig): Promise<ResolvedContainment> {
  if (config.sandbox === 'bwrap') {
    const version = await probeBwrap(config.sandboxBwrapBin);
    return { kind: 'bwrap', detail: `bwrap sandbox (${version}): its own PID namespace` };
  }
  if (config.runContainment === 'none') {
    return {
      kind: 'none',
      detail: 'process group only (PATCHBAY_RUN_CONTAINMENT=none): a run that leaves it survives',
    };
  }
  // Looked up like the runs' own programs: on their PATH.
  const unshare = await findExecutable('unshare', config.childEnvBase.PATH);
  const probe = unshare
    ? await probePidNamespace(unshare)
    : { reasons: ['`unshare` (util-linux) is not installed'] };
  if ('prefix' in probe) {
    const how = probe.userNamespace ? ' in a user namespace (set-uid programs fail)' : '';
    return {
      kind: 'pidns',
      pidns: probe,
      detail: `PID namespace per run${how}, private /proc (${probe.prefix.join(' ')})`,
    };
  }
  const reasons = probe.reasons.join('; ');
  if (config.runContainment === 'pidns') {
    throw new PatchbayError(
      'RUN_CONTAINMENT_UNAVAILABLE',
      `PATCHBAY_RUN_CONTAINMENT=pidns, but no PID namespace can be made here: ${reasons}`,
      { reasons: probe.reasons },
    );
  }
  return {
    kind: 'none',
    detail: `process group only (no PID namespace available: ${reasons}); a run that leaves its group survives`,
  };
}

export interface RunLauncher {
  /** What runs get; `none` until `start` resolved it. */
  readonly containment: ResolvedContainment;
  /** Resolves the containment once (at engine start); throws when the config cannot be met. */
  start(): Promise<ResolvedContainment>;
  /**
   * The argv that starts `argv` for `record`, contained: under bwrap, or in a PID namespace.
   * `wrapped` says the supervisor must read exit codes above 128 as signals.
   */
  argvFor(
    record: RunRecord,
    argv: string[],
    env: Record<string, string>,
    adapter: Pick<AgentAdapter, 'stateDirs' | 'stateFiles'>,
  ): Promise<{ argv: string[]; wrapped: boolean }>;
}

export function createRunLauncher(deps: {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
}): RunLauncher {
  const { config, store, log } = deps;
  let containment: ResolvedContainment = { kind: 'none', detail: 'not resolved yet' };

  /**
   * The directory of the program a sandboxed run starts (read-only), so that an agent CLI or
   * a script installed under /tmp or the data dir, and files next to it, stay visible.
   */
  /**
   * What the sandbox must show of a program that may live where it hides things (a checkout
   * or install under /tmp): the directory it is called by, and the one it really is in (a
   * `node_modules/.bin` link points into its package). An npm-installed CLI needs its whole
   * `node_modules` (its dependencies, a native binary in a sibling package): that is bound
   * (the outermost) instead of either directory inside it.
   */
  async function programDir(program: string, path: string | undefined): Promise<string[]> {
    const found = await findExecutable(program, path);
    if (!found) return [];
    const real = await realpath(found).catch(() => resolvePath(found));
    const dirs = [dirname(resolvePath(found)), dirname(real)].map((dir) => {
      const at = dir.indexOf('/node_modules/');
      return at >= 0 ? dir.slice(0, at + '/node_modules'.length) : dir;
    });
    return [...new Set(dirs)].filter((dir) => dir !== '/');
  }

  /** Git directories a sandboxed repository run must still see (read-only). */
  async function sandboxGitDirs(record: RunRecord): Promise<string[]> {
    if (!record.repoId) return [];
    const repo = await store.repos.get(record.repoId);
    if (!repo) return [];
    // A stage clones the repository and runs this installation's own code.
    if (stageOf(record)) return [repo.path, dirname(dirname(stageArgv(record)[1]!))];
    return [`${repo.path}/.git`];
  }

  /** The `llm` agent is this installation's own code: its package must stay visible. */
  const ownCode = (record: RunRecord): string[] =>
    record.agent === 'llm' ? [dirname(dirname(selfArgv()[1]!))] : [];

  return {
    get containment() {
      return containment;
    },
    async start() {
      containment = await resolveContainment(config);
      return containment;
    },
    async argvFor(record, argv, env, adapter) {
      // A program that is not there is spawned as it is: it fails to start with the system's
      // own error (ENOENT), and nothing runs that would need containing.
      const program = argv[0]!;
      const found = await findExecutable(
        program.includes('/') ? resolvePath(record.workdir!, program) : program,
        env.PATH,
      );
      if (!found) return { argv, wrapped: false };
      if (record.sandbox === 'bwrap') {
        const state = await prepareAgentState(env.HOME, {
          dirs: adapter.stateDirs ?? [],
          files: adapter.stateFiles ?? {},
        });
        for (const s of state.skipped) {
          log.warn({ runId: record.id, ...s }, 'agent state path stays read-only in the sandbox');
        }
        const sandboxed = bwrapArgv(config.sandboxBwrapBin, argv, {
          workdir: record.workdir!,
          network: record.network,
          hide: [config.dataDir],
          // A worktree's git metadata lives in its repository, which may be in the data dir;
          // the program's own directory may be under /tmp, which is private in the sandbox.
          readOnly: [
            ...(await sandboxGitDirs(record)),
            ...ownCode(record),
            ...(await programDir(program, env.PATH)),
          ],
          writable: state.paths,
        });
        return { argv: sandboxed, wrapped: true };
      }
      if (containment.pidns)
        return { argv: pidNamespaceArgv(containment.pidns, argv), wrapped: true };
      return { argv, wrapped: false };
    },
  };
}
