import { z } from 'zod';
import { RunQueueName } from './runs.js';

/**
 * The optimizer's shared shapes: what detection, the scanner, the patch templates and the
 * statistics hand to each other and to clients. One rule id names an opportunity kind in the
 * scanner and, when it has one, its rewrite template.
 */

/** Where a finding comes from: a file (repo-relative) and a 1-based line. */
export const Evidence = z.object({
  file: z.string(),
  line: z.number().int().min(1),
  text: z.string().optional(),
});
export type Evidence = z.infer<typeof Evidence>;

export const DetectedCommand = z.object({
  command: z.string(),
  /** 0..1: 1 for a user override, lower for guesses. */
  confidence: z.number().min(0).max(1),
  source: z.enum(['override', 'package.json', 'workflow', 'convention']),
  evidence: z.array(Evidence),
});
export type DetectedCommand = z.infer<typeof DetectedCommand>;

export const CommandKind = z.enum(['install', 'build', 'typecheck', 'lint', 'test', 'bench']);
export type CommandKind = z.infer<typeof CommandKind>;

export const Framework = z.enum([
  'nextjs',
  'nestjs',
  'express',
  'react-vite',
  'library',
  'unknown',
]);
export type Framework = z.infer<typeof Framework>;

export const DetectResult = z.object({
  packageManager: z.object({
    name: z.enum(['npm', 'pnpm', 'yarn', 'bun']),
    version: z.string().nullable(),
    confidence: z.number().min(0).max(1),
    evidence: z.array(Evidence),
  }),
  framework: z.object({
    name: Framework,
    confidence: z.number().min(0).max(1),
    evidence: z.array(Evidence),
  }),
  /** Workspace package directories of a monorepo (repo-relative), empty otherwise. */
  workspaces: z.array(z.string()),
  /**
   * Benchmark folders with their own package.json (`bench/`, repo-relative): installed after
   * the root, and their node_modules linked into each candidate's worktree like a workspace's.
   */
  benchPackages: z.array(z.string()).optional(),
  commands: z.record(CommandKind, DetectedCommand.nullable()),
  /** True when `.patchbay.json` (or the repo's settings) overrode something. */
  overridden: z.boolean(),
});
export type DetectResult = z.infer<typeof DetectResult>;

/** Rules the scanner knows. `template` rules have a deterministic rewrite; the rest only flag. */
export const RuleId = z.enum([
  // with templates (../shared/reference/perf-validation.md, and the five)
  'no-accumulating-spread',
  'spread-push-in-loop',
  'prefer-set-has',
  'prefer-flat-map',
  'prefer-array-some',
  'prefer-array-find',
  'prefer-set-size',
  'prefer-regexp-test',
  'prefer-string-starts-ends-with',
  'no-indexof-equality',
  'prefer-static-regex',
  'prefer-static-collator',
  'prefer-date-now',
  'no-useless-spread',
  'hoist-json-parse',
  'memoize-pure-function',
  'prefer-inline-equality',
  'prefer-timer-args',
  'reduce-intermediate-arrays',
  'remove-dead-code',
  'hoist-static-closure',
  'prefer-object-literal-shape',
  'hoist-prototype-method',
  // found and patched by a model (`llm: true`), never by a template
  'llm-suggested',
  // flag only
  'no-delete-operator',
  'no-await-in-loop',
  'no-holey-array',
  'no-string-concat-in-loop',
  'no-arguments-in-hot-path',
  'no-try-catch-in-hot-loop',
]);
export type RuleId = z.infer<typeof RuleId>;

export const Risk = z.enum(['low', 'medium', 'high']);
export type Risk = z.infer<typeof Risk>;

/**
 * What a model said and what it cost, kept as evidence on an LLM-found opportunity and on the
 * patch made for it: the reasoning text (or the provider's summary of it), tokens and USD.
 */
export const LlmReasoning = z.object({
  purpose: z.string(),
  provider: z.string(),
  model: z.string(),
  /** The model's reasoning, or its rationale when the provider returned no reasoning. */
  reasoning: z.string(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  reasoningTokens: z.number().int(),
  /** Null when the price table does not know the model. */
  costUsd: z.number().nullable(),
});
export type LlmReasoning = z.infer<typeof LlmReasoning>;

export const Opportunity = z.object({
  rule: RuleId,
  /** Repo-relative, `/`-separated. */
  file: z.string(),
  /** 1-based start and end of the code the rule is about. */
  line: z.number().int().min(1),
  column: z.number().int().min(1),
  endLine: z.number().int().min(1),
  endColumn: z.number().int().min(1),
  rationale: z.string(),
  risk: Risk,
  expectedEffect: z.string(),
  /** The rule id when a template can rewrite it, else null. */
  template: RuleId.nullable(),
  /** Ranking: higher first. Hot paths (reached from exports or benchmarks, inside loops) score more. */
  score: z.number(),
  hot: z.boolean(),
  /** `llm` when a model found it (its reasoning in `llmReasoning`); templates' otherwise. */
  source: z.enum(['scanner', 'llm']).optional(),
  llmReasoning: z.array(LlmReasoning).optional(),
});
export type Opportunity = z.infer<typeof Opportunity>;

/** A rewrite a template produced, before validation. */
export const Candidate = z.object({
  id: z.string(),
  rule: RuleId,
  /** The opportunity it rewrites. */
  file: z.string(),
  line: z.number().int(),
  /** A unified diff (git apply -p1 compatible: a/ and b/ prefixes). */
  diff: z.string(),
  explanation: z.string(),
  files: z.array(z.string()),
  /** Added + removed lines. */
  changedLines: z.number().int(),
  /**
   * How often the baseline's benchmark ran the code this replaces (V8's block count;
   * bench-heat.ts): null when its coverage could not tell, absent when not measured.
   */
  benchHits: z.number().int().min(0).nullable().optional(),
  /** The model calls that wrote this patch, when a model wrote it. */
  llmReasoning: z.array(LlmReasoning).optional(),
});
export type Candidate = z.infer<typeof Candidate>;

/** Why a template produced nothing, or a candidate was refused before any benchmark. */
export const PatchRejection = z.object({
  code: z.enum([
    'GUARD_FAILED',
    'PATCH_TOO_LARGE',
    'PATCH_FORBIDDEN_FILE',
    'PATCH_NO_AST_CHANGE',
    'PATCH_UNUSED_ADDITION',
    'PATCH_DOES_NOT_APPLY',
    'BENCH_DOES_NOT_RUN_IT',
  ]),
  message: z.string(),
});
export type PatchRejection = z.infer<typeof PatchRejection>;

/** The statistics of one base-vs-candidate comparison (perf-validation.md's recipe). */
export const SpeedupVerdict = z.object({
  /** Samples kept after 1×IQR trimming, per side. */
  baseSamples: z.number().int(),
  candidateSamples: z.number().int(),
  baseMedian: z.number(),
  candidateMedian: z.number(),
  /** One-sided Mann–Whitney U: base slower than candidate. */
  pValue: z.number(),
  /** Largest x with base still significantly slower than candidate × (1 + x); 0 when none. */
  lowerBoundSpeedup: z.number(),
  /** The bar applied: max(minSpeedup, the repo's A/A noise floor). */
  threshold: z.number(),
  noiseFloor: z.number(),
  accepted: z.boolean(),
  reason: z.string(),
  /**
   * Judged as one of a family (family.ts): Holm-adjusted p of "faster by at least the bar",
   * the number of hypotheses it was corrected over, and the adjusted p of "slower by the bar".
   */
  adjustedPValue: z.number().optional(),
  hypotheses: z.number().int().optional(),
  slowerAdjustedPValue: z.number().optional(),
});
export type SpeedupVerdict = z.infer<typeof SpeedupVerdict>;

/** An optimization's stages, in order: each runs as its own run of kind `optimize.<stage>`. */
export const OptimizeStage = z.enum(['detect', 'baseline', 'scan', 'patch', 'validate', 'propose']);
export type OptimizeStage = z.infer<typeof OptimizeStage>;

/**
 * Files each stage leaves in its directory's `artifacts/`: those that exist when the stage's
 * run ends (also when it failed: a red baseline's logs.txt is what the user needs) are stored
 * as that run's artifacts.
 */
export const optimizeStageArtifacts: Record<OptimizeStage, readonly string[]> = {
  detect: ['detect.json', 'trace.detect.json'],
  baseline: ['logs.txt', 'baseline.json', 'trace.baseline.json'],
  scan: ['opportunities.json', 'trace.scan.json'],
  patch: ['candidates.json', 'trace.patch.json'],
  validate: ['calibration.json', 'attempts.json', 'trace.validate.json'],
  propose: ['proposals.json', 'trace.json'],
};

/** What an optimization may spend and what it must prove (CLI flags and API body alike). */
export const OptimizeSettings = z
  .object({
    bench: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Benchmark command (default: detected).'),
    test: z.string().min(1).max(4096).optional().describe('Test command (default: detected).'),
    maxCandidates: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe('Candidates validated at most (the highest-ranked first).'),
    maxProposals: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe('Proposals kept at most (the largest proven speedups).'),
    maxMinutes: z
      .number()
      .min(1)
      .max(24 * 60)
      .default(60)
      .describe(
        'No calibration run starts and no new candidate is validated after this many minutes from the start.',
      ),
    minSpeedup: z
      .number()
      .min(0)
      .max(1000)
      .default(3)
      .describe('Smallest speedup worth proposing, in percent (raised to the A/A noise floor).'),
    samples: z
      .number()
      .int()
      .min(3)
      .max(1000)
      .default(20)
      .describe('Benchmark processes per side (base and candidate).'),
    includeSafeRefactors: z
      .boolean()
      .default(false)
      .describe(
        'Also propose candidates that build and pass the tests where no benchmark could prove a speedup, labelled confidence "low".',
      ),
    llm: z
      .boolean()
      .default(false)
      .describe(
        'Also let the configured model find opportunities and write patches for them (validated and proven like the templates).',
      ),
  })
  .strict();
export type OptimizeSettings = z.infer<typeof OptimizeSettings>;

/** Body of `POST /v1/repos/:id/optimize`. */
export const OptimizeRequest = OptimizeSettings.extend({
  ref: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("Commit, branch or tag to optimize (default: the repo's default branch)."),
  queue: RunQueueName.optional().describe('Run queue of its stage runs.'),
}).strict();
export type OptimizeRequest = z.infer<typeof OptimizeRequest>;

export const ProposalMetric = z.object({
  benchmark: z.string(),
  /** Medians of the process-level samples, in ns per operation (lower is better). */
  baseMedianNs: z.number(),
  candidateMedianNs: z.number(),
  baseSamples: z.number().int(),
  candidateSamples: z.number().int(),
  pValue: z.number(),
  /** The proven speedup (lower confidence bound), and the bar it cleared. */
  lowerBoundSpeedup: z.number(),
  threshold: z.number(),
});
export type ProposalMetric = z.infer<typeof ProposalMetric>;

/** A change whose speedup was proven beyond the repository's noise. */
export const Proposal = z.object({
  id: z.string(),
  rule: RuleId,
  file: z.string(),
  line: z.number().int(),
  summary: z.string(),
  explanation: z.string(),
  diff: z.string(),
  files: z.array(z.string()),
  risk: Risk,
  metrics: z.array(ProposalMetric),
  /** The headline: the best benchmark's proven speedup (a fraction; 0 for a safe refactor). */
  speedup: z.number(),
  /**
   * `proven`: a benchmark showed the speedup beyond noise. `low`: a safe refactor (builds, tests
   * pass) that no benchmark measured, proposed only when the user opted in.
   */
  confidence: z.enum(['proven', 'low']),
  /** Everything needed to re-run it: the noise floor, samples, node, the commit. */
  evidence: z.object({
    noiseFloor: z.number(),
    samples: z.number().int(),
    alpha: z.number(),
    node: z.string(),
    commit: z.string(),
  }),
  /** The model calls behind it (discovery and patch) when a model found or wrote it. */
  llmReasoning: z.array(LlmReasoning).optional(),
  /** Every attempt of the optimization in order, with its outcome and reason. */
  timeline: z.array(
    z.object({
      rule: RuleId,
      file: z.string(),
      line: z.number().int(),
      candidateId: z.string().nullable(),
      outcome: z.enum(['accepted', 'rejected', 'safe-refactor']),
      reason: z.string(),
    }),
  ),
});
export type Proposal = z.infer<typeof Proposal>;

/** A stored proposal as the API shows it: where it came from and where its evidence is. */
export const StoredProposal = Proposal.extend({
  optimizationId: z.string(),
  runId: z.string(),
  repoId: z.string().nullable(),
  createdAt: z.string(),
  /** The optimization's artifacts (logs, baseline, attempts, trace): `GET /v1/artifacts/:id`. */
  artifacts: z.array(z.object({ id: z.string(), name: z.string(), runId: z.string() })),
});
export type StoredProposal = z.infer<typeof StoredProposal>;

export const ProposalList = z.object({
  proposals: z.array(StoredProposal.omit({ diff: true, timeline: true, artifacts: true })),
  nextCursor: z.string().nullable(),
});
export type ProposalList = z.infer<typeof ProposalList>;

export const Artifact = z.object({
  id: z.string(),
  runId: z.string(),
  optimizationId: z.string().nullable(),
  repoId: z.string().nullable(),
  name: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  contentType: z.string(),
  createdAt: z.string(),
});
export type Artifact = z.infer<typeof Artifact>;

export const ArtifactUrl = z.object({
  /** GET it without a token until `expiresAt`: PATCHBAY_PUBLIC_URL, or the request's origin, + `path`. */
  url: z.string(),
  /** The same, as a path with its query (for a client that knows the server's address). */
  path: z.string(),
  expiresAt: z.string(),
});
export type ArtifactUrl = z.infer<typeof ArtifactUrl>;
