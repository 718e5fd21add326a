/**
 * The harness behind the rewrite-template tests (src/optimizer/patch/templates.test.ts): a temp
 * git repository per case, the opportunity a scanner would report for a snippet, and the
 * candidate's diff applied with real `git apply`. The cases themselves are in
 * test/fixtures/patch-templates/, one file per template family.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Opportunity, RuleId } from '../../src/contracts/index.js';
import { applyTemplate } from '../../src/optimizer/patch/apply.js';

/** Input + opportunity → the exact file the template's diff must produce. */
export interface Golden {
  rule: RuleId;
  name: string;
  source: string;
  snippet: string;
  expected: string;
  file?: string;
}

/** Input + opportunity → the template must refuse, with a reason matching `reason`. */
export interface Trap {
  rule: RuleId;
  name: string;
  source: string;
  snippet: string;
  reason: RegExp;
}

const dirs: string[] = [];
/** Removes every repository the helpers created: call it from the test file's afterAll. */
export function removeTempRepos(): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const gitEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir() };
const git = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, env: gitEnv, stdio: 'pipe' }).toString();

/** A temp git repository holding `file` with `source`, committed. */
export function repoWith(file: string, source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'pb-patch-'));
  dirs.push(root);
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), source);
  git(['init', '-q'], root);
  git(['add', '.'], root);
  git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'base'], root);
  return root;
}

/** The opportunity a scanner would report for the first occurrence of `snippet`. */
export function opportunityAt(
  rule: RuleId,
  file: string,
  source: string,
  snippet: string,
): Opportunity {
  const index = source.indexOf(snippet);
  if (index < 0) throw new Error(`snippet not in source: ${snippet}`);
  const pos = (offset: number) => {
    const lines = source.slice(0, offset).split('\n');
    return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
  };
  const start = pos(index);
  const end = pos(index + snippet.length);
  return {
    rule,
    file,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    rationale: 'test',
    risk: 'low',
    expectedEffect: 'faster',
    template: rule,
    score: 1,
    hot: true,
  };
}

/** Produces the candidate, applies its diff with real `git apply`, returns the new text. */
export async function rewrite(rule: RuleId, source: string, snippet: string, file = 'src/lib.ts') {
  const root = repoWith(file, source);
  const outcome = await applyTemplate(root, opportunityAt(rule, file, source, snippet));
  if (!('candidate' in outcome)) {
    throw new Error(`expected a candidate, got ${JSON.stringify(outcome.rejected)}`);
  }
  const { candidate } = outcome;
  writeFileSync(join(root, 'candidate.diff'), candidate.diff);
  git(['apply', '--check', 'candidate.diff'], root);
  git(['apply', 'candidate.diff'], root);
  return { candidate, after: readFileSync(join(root, file), 'utf8') };
}

export async function rejection(
  rule: RuleId,
  source: string,
  snippet: string,
  file = 'src/lib.ts',
) {
  const root = repoWith(file, source);
  const outcome = await applyTemplate(root, opportunityAt(rule, file, source, snippet));
  if ('candidate' in outcome)
    throw new Error(`expected a rejection, got:\n${outcome.candidate.diff}`);
  return outcome.rejected;
}
