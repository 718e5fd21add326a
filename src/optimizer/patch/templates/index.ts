/**
 * Deterministic rewrite templates, one per rule id (perf-validation.md's table plus the
 * issue's five). A template finds its pattern at the opportunity's position, re-checks the
 * guard itself (the scanner's word is never enough) and returns minimal text edits — or the
 * reason the guard failed, as a string.
 */
import type { RuleId } from '../../../contracts/index.js';
import {
  preferArrayFind,
  preferArraySome,
  preferFlatMap,
  preferInlineEquality,
  preferSetSize,
  reduceIntermediateArrays,
} from './arrays.js';
import { hoistPrototypeMethod, hoistStaticClosure, preferObjectLiteralShape } from './hot.js';
import { memoizePureFunction } from './memoize.js';
import { preferDateNow, preferTimerArgs } from './misc.js';
import { hoistJsonParse, preferSetHas, removeDeadCode } from './module.js';
import { noAccumulatingSpread, noUselessSpread, spreadPushInLoop } from './spread.js';
import {
  noIndexofEquality,
  preferRegexpTest,
  preferStaticRegex,
  preferStringStartsEndsWith,
} from './strings.js';
import type { Template } from './template.js';

export type { Rewrite, Template, TemplateOutcome } from './template.js';

/** Every rule with a template. `prefer-static-collator` is flagged by the scanner only for now. */
export const TEMPLATES: Partial<Record<RuleId, Template>> = {
  'prefer-set-has': preferSetHas,
  'hoist-json-parse': hoistJsonParse,
  'memoize-pure-function': memoizePureFunction,
  'no-accumulating-spread': noAccumulatingSpread,
  'spread-push-in-loop': spreadPushInLoop,
  'prefer-flat-map': preferFlatMap,
  'prefer-array-some': preferArraySome,
  'prefer-array-find': preferArrayFind,
  'prefer-set-size': preferSetSize,
  'prefer-regexp-test': preferRegexpTest,
  'prefer-string-starts-ends-with': preferStringStartsEndsWith,
  'no-indexof-equality': noIndexofEquality,
  'prefer-static-regex': preferStaticRegex,
  'prefer-date-now': preferDateNow,
  'no-useless-spread': noUselessSpread,
  'prefer-inline-equality': preferInlineEquality,
  'prefer-timer-args': preferTimerArgs,
  'remove-dead-code': removeDeadCode,
  'reduce-intermediate-arrays': reduceIntermediateArrays,
  'hoist-static-closure': hoistStaticClosure,
  'prefer-object-literal-shape': preferObjectLiteralShape,
  'hoist-prototype-method': hoistPrototypeMethod,
};
