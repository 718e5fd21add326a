import type { Candidate, Opportunity, Proposal, ProposalMetric } from '../contracts/index.js';
import type { Attempt } from './pipeline.js';

/** A candidate the patch stage made, with the finding it came from. */
export interface Planned {
  opportunity: Opportunity;
  candidate: Candidate;
}

/** A validated attempt as a proposal, with the evidence it was judged on. */
export function toProposal(
  attempt: Attempt,
  candidates: Planned[],
  context: {
    floor: number;
    samples: number;
    alpha: number;
    commit: string;
    timeline: Proposal['timeline'];
  },
): Proposal {
  const candidate = candidates.find((c) => c.candidate.id === attempt.candidateId)!.candidate;
  // A benchmark an empty function matches proves nothing (mitata's optimized-out heuristic).
  // Only the family the decision was made on: not optimized out, runs the change.
  const counted = attempt.validation!.benchmarks.filter((b) => b.judged);
  const metrics: ProposalMetric[] = counted.map((b) => ({
    benchmark: b.name,
    baseMedianNs: b.verdict.baseMedian,
    candidateMedianNs: b.verdict.candidateMedian,
    baseSamples: b.verdict.baseSamples,
    candidateSamples: b.verdict.candidateSamples,
    pValue: b.verdict.pValue,
    lowerBoundSpeedup: b.verdict.lowerBoundSpeedup,
    threshold: b.verdict.threshold,
  }));
  const proven = attempt.outcome === 'accepted';
  const best = proven ? Math.max(...metrics.map((m) => m.lowerBoundSpeedup)) : 0;
  const where = `${candidate.file}:${candidate.line}`;
  return {
    id: `prop_${candidate.id.replace(/^cand_/, '')}`,
    rule: candidate.rule,
    file: candidate.file,
    line: candidate.line,
    summary: proven
      ? `${candidate.rule} at ${where}: at least ${(best * 100).toFixed(1)}% faster (${attempt.reason})`
      : `${candidate.rule} at ${where}: safe refactor, low confidence (no benchmark measured it)`,
    explanation: candidate.explanation,
    diff: candidate.diff,
    files: candidate.files,
    risk: attempt.opportunity.risk,
    ...(candidate.llmReasoning ? { llmReasoning: candidate.llmReasoning } : {}),
    metrics,
    speedup: best,
    confidence: proven ? 'proven' : 'low',
    evidence: {
      noiseFloor: context.floor,
      samples: context.samples,
      alpha: context.alpha,
      node: process.version,
      commit: context.commit,
    },
    timeline: context.timeline,
  };
}
