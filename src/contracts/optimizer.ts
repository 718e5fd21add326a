import { z } from 'zod';

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
  // flag only
  'no-delete-operator',
  'no-await-in-loop',
  'no-holey-array',
]);
export type RuleId = z.infer<typeof RuleId>;

export const Risk = z.enum(['low', 'medium', 'high']);
export type Risk = z.infer<typeof Risk>;

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
});
export type SpeedupVerdict = z.infer<typeof SpeedupVerdict>;
