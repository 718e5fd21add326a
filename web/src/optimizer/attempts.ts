/**
 * The shape of `attempts.json`, the validate stage's artifact: every candidate in order, the
 * gate that refused it or the validation's verdict, with each benchmark's raw samples. The
 * optimizer owns the type; the dashboard reads only these fields.
 */
import type {
  CommandKind,
  Opportunity,
  PatchRejection,
  SpeedupVerdict,
} from '../../../src/contracts/index.js';

export interface AttemptBenchmark {
  name: string;
  base: number[];
  candidate: number[];
  verdict: SpeedupVerdict;
  regression: boolean;
  judged: boolean;
  optimizedOut: boolean;
}

export interface Attempt {
  opportunity: Opportunity;
  candidateId: string | null;
  outcome: 'accepted' | 'rejected' | 'safe-refactor';
  reason: string;
  rejection?: PatchRejection;
  validation?: {
    status: string;
    reason: string;
    steps: { kind: CommandKind; ok: boolean; durationMs: number; flaky?: boolean }[];
    benchmarks: AttemptBenchmark[];
    samples: number;
    durationMs: number;
  };
}

/**
 * The attempt a proposal was made from: the candidate for the same rule at the same place
 * (stored proposal ids are the server's own, not the candidate's).
 */
export function attemptOf(
  attempts: readonly Attempt[],
  proposal: { rule: string; file: string; line: number },
): Attempt | undefined {
  return attempts.find(
    (a) =>
      a.candidateId !== null &&
      a.outcome !== 'rejected' &&
      a.opportunity.rule === proposal.rule &&
      a.opportunity.file === proposal.file &&
      a.opportunity.line === proposal.line,
  );
}

/** The gate an attempt stopped at, in a word: the patch guard's code or the validation's. */
export function gateOf(a: Attempt): string {
  if (a.rejection) return a.rejection.code;
  if (a.outcome === 'accepted') return 'passed every gate';
  if (a.outcome === 'safe-refactor') return 'no benchmark measured it';
  if (a.validation) {
    const failed = a.validation.steps.find((s) => !s.ok);
    if (failed) return `${failed.kind} failed`;
    return a.validation.status;
  }
  return 'rejected';
}
