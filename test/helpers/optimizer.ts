import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Candidate, CommandKind, DetectResult } from '../../src/contracts/index.js';
import { createSilentLogger } from '../../src/observability/index.js';
import { runBaseline, type Baseline } from '../../src/optimizer/baseline.js';

/** A child environment for optimizer tests: node on PATH, a git identity, nothing else. */
export function optimizerTestEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: tmpdir(),
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@t',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@t',
    ...extra,
  };
}

/**
 * A detection result with just these commands (as if overridden), for tests and benchmarks of
 * the stages after detection; detection itself is tested on its own.
 */
export function detectedWith(commands: Partial<Record<CommandKind, string>>): DetectResult {
  const all: CommandKind[] = ['install', 'build', 'typecheck', 'lint', 'test', 'bench'];
  return {
    packageManager: { name: 'npm', version: null, confidence: 1, evidence: [] },
    framework: { name: 'library', confidence: 1, evidence: [] },
    workspaces: [],
    overridden: false,
    commands: Object.fromEntries(
      all.map((k) => [
        k,
        commands[k]
          ? { command: commands[k], confidence: 1, source: 'override' as const, evidence: [] }
          : null,
      ]),
    ) as DetectResult['commands'],
  };
}

/**
 * Commits the repository at `<dir>/repo` (its files already written), runs its baseline with
 * these commands, and returns a maker of candidates: the diff that replaces `from` with `to`
 * in `file`, made by git itself. Candidate worktrees go under `<dir>/candidates`.
 */
export async function committedBaseline(
  dir: string,
  commands: Partial<Record<CommandKind, string>>,
  env: Record<string, string>,
): Promise<{
  baseline: Baseline;
  candidate: (id: string, file: string, from: string, to: string) => Candidate;
  workRoot: string;
}> {
  const root = join(dir, 'repo');
  const g = (...args: string[]): string =>
    execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });
  g('init', '-q', '-b', 'main');
  g('add', '.');
  g('commit', '-q', '-m', 'fixture');
  const baseline = await runBaseline({
    root,
    detect: detectedWith(commands),
    artifactsDir: join(dir, 'artifacts'),
    env,
    log: createSilentLogger(),
  });
  const failed = baseline.steps.filter((s) => !s.ok);
  if (failed.length > 0) throw new Error(`baseline failed: ${JSON.stringify(failed)}`);
  const candidate = (id: string, file: string, from: string, to: string): Candidate => {
    const path = join(root, file);
    const before = readFileSync(path, 'utf8');
    if (!before.includes(from)) throw new Error(`${file} does not contain ${from}`);
    writeFileSync(path, before.replace(from, to));
    const diff = g('diff', '--', file);
    g('checkout', '--', file);
    return {
      id,
      rule: 'memoize-pure-function',
      file,
      line: 1,
      diff,
      explanation: id,
      files: [file],
      changedLines: 2,
    };
  };
  return { baseline, candidate, workRoot: join(dir, 'candidates') };
}
