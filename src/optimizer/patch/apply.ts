/**
 * Stage 4 of the optimizer: turn one opportunity into a candidate patch. The template re-checks
 * its guard on a fresh parse of the file, edits only the exact node ranges (formatting and
 * comments around them survive), and the result must pass the constraints and the structural
 * check before it is handed on.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Candidate, Opportunity, PatchRejection } from '../../contracts/index.js';
import { parseSource } from '../ast/index.js';
import { loadTypeScript } from '../typescript.js';
import type { Edit } from './ast.js';
import { checkConstraints } from './constraints.js';
import { featuresOf, detectLanguageLevel } from './level-detect.js';
import { fileLevel, type LanguageLevel } from './level.js';
import { countChangedLines, unifiedDiff } from './diff.js';
import { structuralCheck, syntaxError } from './structural.js';
import { TEMPLATES } from './templates/index.js';

export type PatchOutcome = { candidate: Candidate } | { rejected: PatchRejection };

/** Applies non-overlapping edits to `text` (any order). */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((x, y) => y.start - x.start || y.end - x.end);
  let out = text;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.end > limit) throw new Error(`overlapping edits at ${e.start}..${e.end}`);
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

const guardFailed = (message: string): PatchOutcome => ({
  rejected: { code: 'GUARD_FAILED', message },
});

/**
 * Rewrites the code an opportunity points at with its rule's template.
 *
 * @example
 * const outcome = await applyTemplate('/repo', opportunity);
 * if ('candidate' in outcome) console.log(outcome.candidate.diff);
 * else console.log(outcome.rejected.code, outcome.rejected.message);
 */
export interface ApplyTemplateOptions {
  /** The repository's language level, detected once per optimization; detected here if absent. */
  level?: LanguageLevel;
}

export async function applyTemplate(
  root: string,
  opportunity: Opportunity,
  options: ApplyTemplateOptions = {},
): Promise<PatchOutcome> {
  return applyTemplates(root, [opportunity], options);
}

/**
 * One candidate from several findings of one rule in one file (their edits together, names kept
 * unique across them): hoisting both regexes of a function saves twice what either does, and
 * one benchmark judges the sum. Refused whole when any template refuses or edits overlap.
 */
export async function applyTemplates(
  root: string,
  opportunities: readonly Opportunity[],
  options: ApplyTemplateOptions = {},
): Promise<PatchOutcome> {
  const opportunity = opportunities[0]!;
  if (opportunities.some((o) => o.rule !== opportunity.rule || o.file !== opportunity.file))
    return guardFailed('findings of several rules or files cannot make one candidate');
  const template = TEMPLATES[opportunity.rule];
  if (!template) return guardFailed(`rule ${opportunity.rule} has no rewrite template`);
  const absolute = resolve(root, opportunity.file);
  const rel = relative(resolve(root), absolute);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    return {
      rejected: {
        code: 'PATCH_FORBIDDEN_FILE',
        message: `${opportunity.file} is outside the repository`,
      },
    };
  }
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    return guardFailed(`${opportunity.file} cannot be read: ${(err as Error).message}`);
  }
  const ts = await loadTypeScript();
  const sf = parseSource(ts, opportunity.file, text);
  const lines = sf.getLineStarts();
  const where = `${opportunity.rule} at ${opportunity.file}:${opportunities.map((o) => o.line).join(',')}`;
  const level = fileLevel(options.level ?? (await detectLanguageLevel(root)), opportunity.file);
  const taken = opportunities.length > 1 ? new Set<string>() : undefined;
  const edits: Edit[] = [];
  const explanations: string[] = [];
  let after: string;
  try {
    for (const o of opportunities) {
      if (o.line > lines.length || o.endLine > lines.length) {
        return guardFailed(
          `${o.file} has no line ${Math.max(o.line, o.endLine)}: the file changed since the scan`,
        );
      }
      const start = sf.getPositionOfLineAndCharacter(o.line - 1, o.column - 1);
      const end = sf.getPositionOfLineAndCharacter(o.endLine - 1, o.endColumn - 1);
      const outcome = template({ ts, sf, text, start, end, level, ...(taken ? { taken } : {}) });
      if (typeof outcome === 'string') return guardFailed(`${where}: ${outcome}`);
      edits.push(...outcome.edits);
      explanations.push(outcome.explanation);
    }
    after = applyEdits(text, edits);
  } catch (err) {
    // A template bug (or edits that overlap) must cost one candidate, never the run.
    return guardFailed(`${where}: the template failed: ${(err as Error).message}`);
  }
  const explanation = [...new Set(explanations)].join(' ');
  // Safety net: a rewrite that breaks a file that parsed is never handed on.
  const broken = await syntaxError(opportunity.file, after);
  if (broken && !(await syntaxError(opportunity.file, text)))
    return guardFailed(`${where}: the rewritten file does not parse (${broken})`);
  // Safety net: a template never adds syntax the repository's lint or runtime would refuse.
  const had = featuresOf(ts, sf);
  const added = [...featuresOf(ts, parseSource(ts, opportunity.file, after))].filter(
    (f) => !had.has(f) && !level.allows(f),
  );
  if (added.length > 0)
    return guardFailed(
      `${where}: the rewrite would add ${added.join(', ')}, above the repository's level ${level.describe()}`,
    );
  const structural = await structuralCheck(opportunity.file, text, after);
  if (structural) return { rejected: structural };
  const diff = unifiedDiff(opportunity.file, text, after);
  const candidate: Candidate = {
    id: `cand_${createHash('sha256').update(`${opportunity.rule}\0${opportunity.file}\0${diff}`).digest('hex').slice(0, 16)}`,
    rule: opportunity.rule,
    file: opportunity.file,
    line: opportunity.line,
    diff,
    explanation,
    files: [opportunity.file],
    changedLines: countChangedLines(diff),
  };
  const violation = checkConstraints(candidate);
  return violation ? { rejected: violation } : { candidate };
}
