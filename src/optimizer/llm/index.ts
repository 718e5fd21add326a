/**
 * The optimizer's model half (`llm: true`): discovery next to the scanner, patches next to
 * the templates. Nothing here accepts anything: validation and the statistics decide.
 */
import { PatchbayError } from '../../contracts/index.js';
import type { LlmCallScope } from './discover.js';

export { discoverWithLlm, fatal, hotFiles, mergeFindings, type LlmCallScope } from './discover.js';
export { patchOrRefusal, patchWithLlm, type LlmPatchOptions } from './patch.js';
export { systemPrompt } from './prompts.js';

/** The stage's model client, or LLM_NOT_CONFIGURED when the stage was started without one. */
export function requireLlmScope(make: (() => LlmCallScope) | undefined): LlmCallScope {
  if (!make) {
    throw new PatchbayError(
      'LLM_NOT_CONFIGURED',
      'this optimization asked for the model (llm: true) but its stage has no model client',
    );
  }
  return make();
}
