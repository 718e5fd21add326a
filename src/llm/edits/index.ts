/**
 * Edit application for the built-in `llm` agent's file tools: locate the model's `oldText`
 * (exact first, then a ladder of tolerances, always demanding one unique place) and replace
 * it, or explain to the model why not. No line numbers are ever taken from the model.
 */
export { applyEdit } from './apply.js';
export {
  applyEdits,
  type PatchEditApplied,
  type PatchEditFailed,
  type PatchResult,
} from './multi.js';
export { RUNGS } from './normalize.js';
export type {
  EditApplied,
  EditCandidate,
  EditFailure,
  EditFailureCode,
  EditRequest,
  EditResult,
  FileEdit,
  MatchKind,
} from './types.js';
