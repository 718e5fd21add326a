import type { LlmReasoning } from '../../contracts/index.js';
/** What `patchbay optimize` prints for a person: the progress line and the summary at the end. */
import type { OptimizeProgress, OptimizeResult } from '../../optimizer/index.js';
import { out } from '../output.js';

const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

export function progressLine(p: OptimizeProgress): string {
  const k = p.candidate ? ` candidate ${p.candidate.index}/${p.candidate.total}` : '';
  const eta = p.etaMs !== undefined ? `, ETA ${duration(p.etaMs)}` : '';
  return `[${duration(p.elapsedMs)}] ${p.stage}${k}: ${p.message}${eta}`;
}

/**
 * Why nothing was proposed, from what actually happened: "beyond the noise" only when a
 * benchmark measured something; a guard or a red build is named as what stopped it.
 */
export function whyNoProposal(result: OptimizeResult): string {
  const { attempts, opportunities } = result;
  if (opportunities.length === 0) return 'the scan found nothing its rules rewrite';
  if (attempts.length === 0) {
    return `none of the ${opportunities.length} opportunities has a rewrite template (flag-only rules)`;
  }
  const measured = attempts.filter((a) => (a.validation?.benchmarks.length ?? 0) > 0).length;
  const safe = attempts.filter((a) => a.outcome === 'safe-refactor').length;
  const stopped = attempts.length - measured - safe;
  const parts: string[] = [];
  if (stopped > 0) parts.push(`${stopped} rejected before any benchmark ran (reasons below)`);
  if (measured > 0) parts.push(`${measured} measured without a speedup beyond the noise`);
  if (safe > 0) parts.push(`${safe} safe refactor(s) not asked for (--include-safe-refactors)`);
  return parts.join('; ');
}

/**
 * `--json`: the proposals, every candidate that was not proposed with its reason (a guard's
 * refusal, a failed test, the benchmark's verdict), and what the baseline reported without
 * failing: tests that passed only on their rerun, a lint that fails (informative unless the
 * test command runs it).
 */
export function resultJson(result: OptimizeResult): {
  proposals: OptimizeResult['proposals'];
  rejected: {
    rule: string;
    file: string;
    line: number;
    candidateId: string | null;
    outcome: string;
    reason: string;
  }[];
  baseline: { flakyTests: boolean; lintFailed: boolean };
} {
  return {
    proposals: result.proposals,
    rejected: result.attempts
      .filter((a) => a.outcome !== 'accepted')
      .map((a) => ({
        rule: a.opportunity.rule,
        file: a.opportunity.file,
        line: a.opportunity.line,
        candidateId: a.candidateId,
        outcome: a.outcome,
        reason: a.reason,
      })),
    baseline: baselineNotes(result),
  };
}

function baselineNotes(result: OptimizeResult): { flakyTests: boolean; lintFailed: boolean } {
  return {
    flakyTests: result.baseline.flakyTests,
    lintFailed: result.baseline.steps.some((s) => s.kind === 'lint' && !s.ok),
  };
}

/** `--verbose`: what the model said and spent, indented under the line it explains. */
function printReasoning(reasoning: readonly LlmReasoning[] | undefined): void {
  for (const r of reasoning ?? []) {
    const cost = r.costUsd === null ? 'unpriced' : `$${r.costUsd.toFixed(4)}`;
    out.line(
      `      ${r.purpose} · ${r.provider}/${r.model} · ${r.inputTokens} in, ${r.outputTokens} out (${r.reasoningTokens} reasoning) · ${cost}`,
    );
    for (const line of r.reasoning.trim().split('\n').slice(0, 12)) out.line(`        ${line}`);
  }
}

export function printSummary(result: OptimizeResult, options: { verbose?: boolean } = {}): void {
  const verbose = options.verbose === true;
  const counts = { accepted: 0, rejected: 0, 'safe-refactor': 0 };
  for (const a of result.attempts) counts[a.outcome]++;
  out.line(
    `${result.opportunities.length} opportunities, ${result.attempts.length} attempts: ${counts.accepted} accepted, ${counts['safe-refactor']} safe refactor, ${counts.rejected} rejected (A/A noise floor ${(result.noiseFloor * 100).toFixed(1)}%)`,
  );
  const notes = baselineNotes(result);
  if (notes.flakyTests) {
    out.line(
      'baseline: the tests failed once and passed on their rerun (flaky; reruns apply to candidates too)',
    );
  }
  if (notes.lintFailed)
    out.line('baseline: lint fails (reported only: the test command does not run it)');
  if (result.proposals.length === 0) {
    out.line(`no proposal: ${whyNoProposal(result)}`);
  } else {
    out.line('');
    out.line(
      'proposal                    speedup ≥   p        rule                          where',
    );
    for (const p of result.proposals) {
      const best = p.metrics.reduce<(typeof p.metrics)[number] | undefined>(
        (a, m) => (!a || m.lowerBoundSpeedup > a.lowerBoundSpeedup ? m : a),
        undefined,
      );
      const speedup = p.confidence === 'low' ? 'low conf' : `${(p.speedup * 100).toFixed(1)}%`;
      out.line(
        `${p.id.padEnd(27)} ${speedup.padStart(8)}   ${(best?.pValue.toExponential(1) ?? '-').padEnd(8)} ${p.rule.padEnd(29)} ${p.file}:${p.line}`,
      );
      if (verbose) printReasoning(p.llmReasoning);
    }
    out.line('');
    out.line(
      `apply one: patchbay optimize --apply <proposal>  (a new branch; your checkout stays)`,
    );
  }
  const rejected = result.attempts.filter((x) => x.outcome !== 'accepted');
  if (rejected.length > 0) out.line(result.proposals.length > 0 ? '\nnot proposed:' : 'why:');
  for (const a of rejected) {
    const o = a.opportunity;
    out.line(`  ${o.rule} ${o.file}:${o.line}: ${a.outcome}: ${a.reason}`);
    if (verbose) printReasoning(o.llmReasoning);
  }
  out.note(`artifacts: ${result.artifactsDir}`);
}
