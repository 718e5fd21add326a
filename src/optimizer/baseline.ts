import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PatchbayError, type CommandKind, type DetectResult } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { formatStepLog, runOnceMoreIfTests, runStep, stepEnv, type StepResult } from './steps.js';
import { createTrace, type Trace } from './trace.js';

/** The order the baseline runs the detected commands in. Lint is informative only. */
const ORDER: CommandKind[] = ['install', 'build', 'typecheck', 'lint', 'test', 'bench'];
/** A failure of these stops the run: a red baseline cannot prove anything. */
const BLOCKING = new Set<CommandKind>(['install', 'build', 'typecheck', 'test', 'bench']);

export interface BaselineStep {
  kind: CommandKind;
  command: string;
  ok: boolean;
  exitCode: number | null;
  reason: StepResult['reason'];
  durationMs: number;
  /** Set on the test step when it failed once and passed on the rerun. */
  flaky?: boolean;
}

export interface Baseline {
  root: string;
  detect: DetectResult;
  steps: BaselineStep[];
  /** True when the test step failed once and passed on its one rerun. */
  flakyTests: boolean;
  /** The benchmark's output (the optimizer parses it per harness), null without a bench. */
  benchOutput: string | null;
  node: string;
  startedAt: string;
  durationMs: number;
}

export interface BaselineOptions {
  root: string;
  detect: DetectResult;
  /** logs.txt, baseline.json and trace.json are written here. */
  artifactsDir: string;
  env: Record<string, string>;
  log: Logger;
  /** Each step's wall-clock limit (default 30 min). */
  stepTimeoutMs?: number;
  trace?: Trace;
  /** Called as each step starts (progress: a baseline can take many minutes). */
  onStep?: (name: string, command: string) => void;
  /**
   * The benchmark step runs with NODE_V8_COVERAGE set to this directory, so the scan can tell
   * which opportunities the benchmark runs (and how often) at no extra run.
   */
  benchCoverageDir?: string;
}

/**
 * Stage 2, Baseline: one install, then build, typecheck, lint, tests and benchmark, each with
 * its log and timing. Tests that fail are rerun once: passing then marks them flaky (recorded,
 * and validation will rerun a candidate's failing tests once too); failing again stops the run.
 *
 * @throws PatchbayError OPTIMIZE_BASELINE_FAILED naming the step, after the artifacts are written.
 */
export async function runBaseline(options: BaselineOptions): Promise<Baseline> {
  const { root, detect, artifactsDir, env, log } = options;
  const trace = options.trace ?? createTrace();
  await mkdir(artifactsDir, { recursive: true });
  const started = Date.now();
  const logs: string[] = [];
  const steps: BaselineStep[] = [];
  let flakyTests = false;
  let benchOutput: string | null = null;
  let failure: { kind: CommandKind; step: StepResult } | undefined;

  const run = async (kind: CommandKind, name: string, command: string): Promise<StepResult> => {
    options.onStep?.(name, command);
    const step = await trace.span('baseline', name, () =>
      runStep({
        name,
        command,
        cwd: root,
        env:
          kind === 'bench' && options.benchCoverageDir
            ? { ...stepEnv(kind, env), NODE_V8_COVERAGE: options.benchCoverageDir }
            : stepEnv(kind, env),
        log,
        timeoutMs: options.stepTimeoutMs,
      }),
    );
    logs.push(formatStepLog(step));
    log.info({ step: name, ok: step.ok, ms: step.durationMs }, 'baseline step');
    return step;
  };

  for (const kind of ORDER) {
    const detected = detect.commands[kind];
    if (!detected) continue;
    const { step, flaky } = await runOnceMoreIfTests(kind, (name) =>
      run(kind, name, detected.command),
    );
    if (flaky) flakyTests = true;
    steps.push({
      kind,
      command: detected.command,
      ok: step.ok,
      exitCode: step.exitCode,
      reason: step.reason,
      durationMs: step.durationMs,
      ...(kind === 'test' ? { flaky } : {}),
    });
    if (kind === 'bench' && step.ok) benchOutput = step.output;
    if (!step.ok && BLOCKING.has(kind)) {
      failure = { kind, step };
      break;
    }
  }

  const baseline: Baseline = {
    root,
    detect,
    steps,
    flakyTests,
    benchOutput,
    node: process.version,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
  await writeFile(join(artifactsDir, 'logs.txt'), logs.join(''));
  await writeFile(join(artifactsDir, 'baseline.json'), `${JSON.stringify(baseline, null, 2)}\n`);
  await writeFile(join(artifactsDir, 'trace.json'), `${JSON.stringify(trace.toJSON(), null, 2)}\n`);
  if (failure) {
    const { kind, step } = failure;
    const details = {
      step: kind,
      command: step.command,
      exitCode: step.exitCode,
      reason: step.reason,
    };
    const missing = missingProgram(step);
    if (missing) {
      throw new PatchbayError(
        'OPTIMIZE_BASELINE_FAILED',
        `the baseline ${kind} step (\`${step.command}\`) needs \`${missing}\`, which is not installed on this machine: install it, or set commands.${kind} in .patchbay.json (see logs.txt)`,
        { ...details, missing },
      );
    }
    const how =
      step.reason === 'exited' ? `exited with ${step.exitCode ?? step.signal}` : step.reason;
    throw new PatchbayError(
      'OPTIMIZE_BASELINE_FAILED',
      `the baseline ${kind} step (\`${step.command}\`) ${how}${kind === 'test' ? ', twice' : ''}: nothing can be proven against a red baseline (see logs.txt)`,
      details,
    );
  }
  return baseline;
}

/**
 * The program a step's shell could not find (exit 127 and the shell's "not found": dash says
 * `sh: 1: pnpm: not found`, bash `bash: pnpm: command not found`), else undefined.
 */
export function missingProgram(step: Pick<StepResult, 'exitCode' | 'output'>): string | undefined {
  if (step.exitCode !== 127) return undefined;
  return /^(?:[\w./-]+: )?(?:line )?(?:\d+: )?([^\s:]+): (?:command )?not found\s*$/m.exec(
    step.output,
  )?.[1];
}
