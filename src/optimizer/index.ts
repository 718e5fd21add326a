export { loadTypeScript, type TypeScript } from './typescript.js';
export { runBaseline, type Baseline, type BaselineStep } from './baseline.js';
export { detectRepo } from './detect.js';
export { detectGates, type RepoGate, type RepoGates } from './gates.js';
export { decide, mannWhitneyU, noiseFloor, lowerBoundSpeedup } from './stats.js';
export { parseBenchOutput, benchmarkTimeNs } from './bench-output.js';
export { validateCandidate, type ValidationResult } from './validate.js';
export {
  optimize,
  readOptimizeResult,
  resolveSettings,
  runOptimizeStage,
  startOptimization,
  type Attempt,
  type OptimizeProgress,
  type OptimizeResult,
  type ResolvedOptimizeSettings,
} from './pipeline.js';
export {
  applyProposal,
  findProposal,
  localSource,
  proposalBranch,
  type AppliedProposal,
  type FoundProposal,
} from './apply.js';
export { isGitUrl } from './working-copy.js';
export type { LlmCallScope } from './llm/index.js';
/** The scanner's rules and the rewrite templates by rule id (docs/optimizer-rules.md lists them). */
export { RULES } from './scan/index.js';
export { TEMPLATES } from './patch/index.js';
