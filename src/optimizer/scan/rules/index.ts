/** Every scanner rule, in the order of RuleId. */
import type { Rule } from '../rule.js';
import {
  noHoleyArray,
  preferArrayFind,
  preferArraySome,
  preferFlatMap,
  preferInlineEquality,
  preferSetSize,
  reduceIntermediateArrays,
} from './arrays.js';
import {
  hoistStaticClosure,
  hoistPrototypeMethod,
  noArgumentsInHotPath,
  noStringConcatInLoop,
  noTryCatchInHotLoop,
  preferObjectLiteralShape,
} from './hot.js';
import { memoizePureFunction } from './memoize.js';
import { noAwaitInLoop, noDeleteOperator, preferDateNow, preferTimerArgs } from './misc.js';
import { hoistJsonParse, preferSetHas, removeDeadCode } from './module.js';
import { noAccumulatingSpread, noUselessSpread, spreadPushInLoop } from './spread.js';
import {
  noIndexofEquality,
  preferRegexpTest,
  preferStaticCollator,
  preferStaticRegex,
  preferStringStartsEndsWith,
} from './strings.js';

export const RULES: readonly Rule[] = [
  noAccumulatingSpread,
  spreadPushInLoop,
  preferSetHas,
  preferFlatMap,
  preferArraySome,
  preferArrayFind,
  preferSetSize,
  preferRegexpTest,
  preferStringStartsEndsWith,
  noIndexofEquality,
  preferStaticRegex,
  preferStaticCollator,
  preferDateNow,
  noUselessSpread,
  hoistJsonParse,
  memoizePureFunction,
  preferInlineEquality,
  preferTimerArgs,
  reduceIntermediateArrays,
  removeDeadCode,
  hoistStaticClosure,
  preferObjectLiteralShape,
  hoistPrototypeMethod,
  noDeleteOperator,
  noAwaitInLoop,
  noHoleyArray,
  noStringConcatInLoop,
  noArgumentsInHotPath,
  noTryCatchInHotLoop,
];
