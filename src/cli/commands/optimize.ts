import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  isPatchbayError,
  OptimizeSettings,
  OptimizeStage,
  PatchbayError,
  type Proposal,
} from '../../contracts/index.js';
import { stageProcessEnv } from '../../config/index.js';
import type { OptimizeProgress } from '../../optimizer/index.js';
import { openStore, ulid } from '../../store/index.js';
import { createStageParser } from '../../engine/index.js';
import { createContext, type CliContext } from '../context.js';
import { out } from '../output.js';
import { readSettings } from './agent-llm.js';
import { followOptimization } from './optimize-follow.js';
import { llmSettingsFor, stageLlmScope } from './optimize-llm.js';
import { printSummary, progressLine, resultJson } from './optimize-summary.js';

interface OptimizeFlags {
  bench?: string;
  test?: string;
  maxCandidates?: string;
  maxProposals?: string;
  maxMinutes?: string;
  minSpeedup?: string;
  samples?: string;
  json?: boolean;
  apply?: string;
  repo?: string;
  ref?: string;
  includeSafeRefactors?: boolean;
  llm?: boolean;
  verbose?: boolean;
  follow?: string;
  pr?: boolean;
}

/** A positive number from a flag, or a VALIDATION_FAILED naming the flag. */
function numberFlag(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new PatchbayError('VALIDATION_FAILED', `--${name} must be a number in [${min}, ${max}]`, {
      problems: [{ path: name, message: `got ${value}` }],
    });
  }
  return n;
}

export function registerOptimize(program: Command): void {
  program
    .command('optimize')
    .description(
      'Find performance fixes in a JS/TS repository and prove each speedup (offline, deterministic templates)',
    )
    .argument('[path-or-url]', 'the repository (default: the current directory)')
    .option('--bench <cmd>', 'benchmark command (default: detected)')
    .option('--test <cmd>', 'test command (default: detected)')
    .option('--ref <ref>', 'with a git repository: the commit, branch or tag (default: HEAD)')
    .option('--max-candidates <n>', 'candidates validated at most', '10')
    .option('--max-proposals <n>', 'proposals kept at most', '5')
    .option('--max-minutes <n>', 'stop calibrating and taking candidates after this long', '60')
    .option('--min-speedup <percent>', 'smallest speedup worth proposing, in %', '3')
    .option('--samples <n>', 'benchmark processes per side (base and candidate)', '20')
    .option(
      '--include-safe-refactors',
      'also propose changes no benchmark could prove (build and tests pass), as low confidence',
    )
    .option(
      '--llm',
      'also let the configured model (PATCHBAY_LLM_*) find opportunities and write patches, proven like the templates',
    )
    .option('--verbose', "show the model's reasoning and cost for each proposal (with --llm)")
    .option(
      '--json',
      'print the result as JSON: { proposals, rejected (each with its reason), baseline }',
    )
    .option(
      '--pr',
      "open a pull request per proposal on the repository's GitHub, with its evidence (with --follow: the server opens them once the optimization succeeded)",
    )
    .option(
      '--apply <proposal>',
      'commit a proposal on a new branch patchbay/optimize-<id> of the repository (your checkout stays on its branch)',
    )
    .option(
      '--follow <optimization>',
      "follow a server's optimization (its first run id) stage by stage until it ends",
    )
    .option(
      '--repo <path>',
      'with --apply: the repository (default: the directory the optimization read, if local)',
    )
    .action(async (target: string | undefined, flags: OptimizeFlags, command: Command) => {
      const ctx = createContext(command);
      // The stage processes get what a server's stage run gets (child-env.ts).
      const env = stageProcessEnv(ctx.config);
      if (flags.apply) {
        await applyCommand(ctx.config, flags.apply, flags);
        return;
      }
      if (flags.follow) {
        await followOptimization(ctx, flags.follow, flags);
        return;
      }
      // Loaded here: no other command (a server least of all) needs the optimizer in memory.
      const { isGitUrl, readOptimizeResult, resolveSettings, startOptimization } =
        await import('../../optimizer/index.js');
      const source = target ?? '.';
      const id = `opt_${ulid()}`;
      const runDir = join(ctx.config.dataDir, 'optimizer', id);
      const settings = resolveSettings({
        bench: flags.bench,
        test: flags.test,
        maxCandidates: numberFlag('max-candidates', flags.maxCandidates, 1, 1000),
        maxProposals: numberFlag('max-proposals', flags.maxProposals, 1, 1000),
        maxMinutes: numberFlag('max-minutes', flags.maxMinutes, 1, 24 * 60),
        minSpeedup: (numberFlag('min-speedup', flags.minSpeedup, 0, 1000) ?? 3) / 100,
        samples: numberFlag('samples', flags.samples, 3, 1000),
        includeSafeRefactors: flags.includeSafeRefactors === true,
        llm: flags.llm === true,
      });
      // Refused before any work: the model half needs a provider (and its key).
      const llmEnv = settings.llm ? llmSettingsFor(ctx.config) : undefined;
      await startOptimization(runDir, {
        id,
        source: isGitUrl(source) ? source : resolve(source),
        ...(flags.ref ? { ref: flags.ref } : {}),
        settings,
      });
      // Progress always goes to stderr (stdout is the result, JSON or not): a terminal gets one
      // live line, a pipe or a log file one line per step (stage, baseline step, candidate).
      const interactive = process.stderr.isTTY;
      let last = '';
      for (const stage of OptimizeStage.options) {
        await runStageProcess(stage, runDir, env, llmEnv, (p) => {
          if (interactive) {
            out.stderr(`\r\x1b[2K${progressLine(p)}`);
            return;
          }
          // One line per new step: a stage's steps (the baseline's install, tests, …) too.
          const key = `${p.stage}#${p.candidate?.index ?? ''}#${p.message}`;
          if (key !== last) out.note(progressLine(p));
          last = key;
        });
      }
      if (interactive) out.stderr('\n');
      const result = await readOptimizeResult(runDir);
      if (flags.json) out.json(resultJson(result));
      else printSummary(result, { verbose: flags.verbose === true });
      if (flags.pr && result.proposals.length > 0) {
        if (isGitUrl(source)) {
          throw new PatchbayError('DELIVERY_NOT_POSSIBLE', '--pr needs a local repository path');
        }
        const { openProposalPullRequests } = await import('./optimize-pr.js');
        await openProposalPullRequests(ctx.config, ctx.logger(), {
          repoPath: resolve(source),
          optimizationId: id,
          proposals: result.proposals,
        });
      }
    });

  program
    .command('optimize-stage', { hidden: true })
    .description('Run one stage of an optimization in --dir, printing NDJSON progress (internal)')
    .argument('<stage>', OptimizeStage.options.join('|'))
    .option('--dir <dir>', "the optimization's directory", '.')
    .option(
      '--source <path-or-url>',
      'with the first stage: start the optimization from this source',
    )
    .option('--ref <ref>', 'with --source: the commit, branch or tag')
    .option('--settings <json>', 'with --source: OptimizeSettings as JSON')
    .option('--settings-stdin', 'read the model settings from the first line of stdin')
    .action(async (stage: string, flags: StageFlags, command: Command) => {
      const ctx = createContext(command);
      const emit = (line: Record<string, unknown>): boolean =>
        out.stdout(`${JSON.stringify(line)}\n`);
      try {
        const parsed = OptimizeStage.safeParse(stage);
        if (!parsed.success) {
          throw new PatchbayError('VALIDATION_FAILED', `unknown stage ${stage}`, {
            problems: [{ path: 'stage', message: OptimizeStage.options.join(', ') }],
          });
        }
        const { resolveSettings, runOptimizeStage, startOptimization } =
          await import('../../optimizer/index.js');
        const runDir = resolve(flags.dir);
        if (flags.source) {
          const settings = parseSettings(flags.settings);
          await startOptimization(runDir, {
            source: flags.source,
            ...(flags.ref ? { ref: flags.ref } : {}),
            settings: resolveSettings({ ...settings, minSpeedup: settings.minSpeedup / 100 }),
          });
        }
        const modelSettings = flags.settingsStdin ? (await readSettings()).settings : undefined;
        let llmScope: ReturnType<typeof stageLlmScope> | undefined;
        await runOptimizeStage(parsed.data, {
          runDir,
          env: ctx.config.childEnvBase,
          log: ctx.logger('warn'),
          ...(modelSettings
            ? {
                // One client for the stage: its config is loaded and its spend counted once.
                llmScope: () =>
                  (llmScope ??= stageLlmScope(modelSettings, ctx.logger('warn'), emit)),
              }
            : {}),
          // Reused by the next optimization of the same commit (calibrate.ts).
          calibrationDir: join(ctx.config.dataDir, 'optimizer', 'calibrations'),
          stageTimeoutMs: ctx.config.optimizeStageTimeoutMs,
          onProgress: (p) => emit({ type: 'progress', ...p }),
        });
        emit({ type: 'result', ok: true, stage });
      } catch (err) {
        const e = isPatchbayError(err) ? err : null;
        emit({
          type: 'error',
          code: e?.code ?? 'INTERNAL_ERROR',
          message: (err as Error).message,
          ...(e?.details ? { details: e.details } : {}),
        });
        process.exitCode = 1;
      }
    });
}

/**
 * `--apply`: the proposal's branch in the repository named by --repo, or else the local
 * directory its optimization read; never the current directory by accident.
 */
async function applyCommand(
  config: CliContext['config'],
  id: string,
  flags: OptimizeFlags,
): Promise<void> {
  const { applyProposal, findProposal, localSource } = await import('../../optimizer/index.js');
  // A proposal of `patchbay optimize` is in the data dir's files; one a server's
  // optimization made is in its store (the same data dir, or PATCHBAY_DATABASE_URL).
  const found = await findProposal(config.dataDir, id).catch(async (err: unknown) => {
    const stored = await storedProposal(config.databaseUrl, id);
    if (!stored) throw err;
    return { proposal: stored, source: undefined };
  });
  const repo = flags.repo ? resolve(flags.repo) : localSource(found.source);
  if (!repo) {
    throw new PatchbayError(
      'VALIDATION_FAILED',
      `name the repository to apply ${id} to: patchbay optimize --apply ${id} --repo <path>`,
      {
        problems: [
          { path: 'repo', message: 'required: the optimization did not read a local directory' },
        ],
      },
    );
  }
  const scratch = join(config.dataDir, 'optimizer', 'apply');
  const applied = await applyProposal(found.proposal, repo, scratch, config.childEnvBase);
  if (flags.json) {
    out.json({ proposalId: id, ...applied });
    return;
  }
  const short = applied.commit.slice(0, 12);
  const git = `git -C ${applied.repo}`;
  if (applied.status === 'already-applied') {
    out.line(
      applied.where === 'head'
        ? `already applied: ${applied.repo} at ${short} (${applied.current}) already has ${id}'s change; nothing to do`
        : `already applied: ${id} is commit ${short} on branch ${applied.branch} of ${applied.repo}; nothing changed`,
    );
    return;
  }
  out.line(`applied ${id}: commit ${short} on a new branch ${applied.branch} of ${applied.repo}`);
  out.line(`your checkout is unchanged (still on ${applied.current}); the branch is yours to:`);
  out.line(`  ${git} switch ${applied.branch}     # look at it and run your tests`);
  out.line(`  ${git} merge ${applied.branch}      # take it into ${applied.current}`);
  out.line(`  ${git} branch -D ${applied.branch}  # drop it`);
}

/** A proposal from the store, or undefined (no such proposal, or no store with proposals). */
async function storedProposal(databaseUrl: string, id: string): Promise<Proposal | undefined> {
  const store = await openStore({ databaseUrl, migrate: false }).catch(() => undefined);
  if (!store) return undefined;
  try {
    return await store.proposals.get(id).catch(() => undefined);
  } finally {
    await store.close();
  }
}

interface StageFlags {
  dir: string;
  source?: string;
  ref?: string;
  settings?: string;
  settingsStdin?: boolean;
}

function parseSettings(json: string | undefined): OptimizeSettings {
  let value: unknown = {};
  try {
    value = json ? JSON.parse(json) : {};
  } catch (err) {
    throw new PatchbayError(
      'VALIDATION_FAILED',
      `--settings is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = OptimizeSettings.safeParse(value);
  if (!parsed.success) {
    throw new PatchbayError('VALIDATION_FAILED', '--settings does not match OptimizeSettings', {
      problems: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return parsed.data;
}

/**
 * One stage in its own process, as the server runs it: a plain `node` without the launcher's
 * memory flags (the scanner and the TypeScript parser want the optimizing compiler), its
 * progress read from the NDJSON it prints.
 */
async function runStageProcess(
  stage: OptimizeStage,
  runDir: string,
  env: Record<string, string>,
  llmEnv: Record<string, string> | undefined,
  onProgress: (p: OptimizeProgress) => void,
): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      process.argv[1]!,
      'optimize-stage',
      stage,
      '--dir',
      runDir,
      ...(llmEnv ? ['--settings-stdin'] : []),
    ],
    { env, stdio: [llmEnv ? 'pipe' : 'ignore', 'pipe', 'inherit'] },
  );
  // The model settings, keys included, on stdin: never in argv or the stage's children's env.
  if (llmEnv) child.stdin!.end(`${JSON.stringify({ settings: llmEnv })}\n`);
  // The same reader of the stage's NDJSON as the server's stage runs use.
  const parser = createStageParser();
  let details: Record<string, unknown> | undefined;
  const lines = createInterface({ input: child.stdout! });
  const closed = once(lines, 'close');
  lines.on('line', (line) => {
    for (const event of parser.line(line)) {
      if (event.type === 'progress') onProgress(event.data as unknown as OptimizeProgress);
      else if (event.type === 'output') out.stderr(String(event.data.text));
      else if (event.type === 'error') details = event.data.details as typeof details;
    }
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  await closed;
  const { facts } = parser;
  if (facts.isError) {
    throw new PatchbayError(facts.errorCode ?? 'INTERNAL_ERROR', facts.errorMessage, details);
  }
  if (code !== 0) {
    throw new PatchbayError(
      'INTERNAL_ERROR',
      `the ${stage} stage ended with ${signal ?? `exit code ${String(code)}`}`,
    );
  }
}
