import type { Candidate, Opportunity, RuleId } from '../../contracts/index.js';
import { applyTemplates } from './apply.js';
import type { LanguageLevel } from './level.js';

/**
 * Rules whose findings in one file add up: each hoists one expression to its own module-level
 * name, so their edits never overlap and their savings sum. Hoisting one regex of a function
 * saves ~5 ns where a benchmark's call costs ~80 ns (mime 2's `getType`); hoisting all of them
 * is the change a person would make, and the one a benchmark can prove.
 */
const ADDITIVE: ReadonlySet<RuleId> = new Set(['prefer-static-regex']);

/**
 * One more candidate per file where an additive rule's templates wrote two or more single
 * candidates: all of them at once. The singles stay (the merged one may fail a test one of them
 * does not); the merged ones come first, so at equal heat they are validated first.
 */
export async function mergedCandidates<
  T extends { opportunity: Opportunity; candidate: Candidate },
>(
  root: string,
  written: readonly T[],
  level: LanguageLevel,
): Promise<{ opportunity: Opportunity; candidate: Candidate }[]> {
  const groups = new Map<string, T[]>();
  for (const w of written) {
    if (!ADDITIVE.has(w.opportunity.rule)) continue;
    const key = `${w.opportunity.rule}\0${w.opportunity.file}`;
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  const out: { opportunity: Opportunity; candidate: Candidate }[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const outcome = await applyTemplates(
      root,
      group.map((g) => g.opportunity),
      { level },
    );
    if ('candidate' in outcome)
      out.push({ opportunity: group[0]!.opportunity, candidate: outcome.candidate });
  }
  return out;
}
