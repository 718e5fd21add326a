/**
 * Syntactic analysis shared by the scanner (scan/) and the rewrite templates (patch/): one
 * answer to "is this a boolean context", "is this callback pure", "is this value mutated",
 * "is this name the global" for both, so a rule reports what its template accepts. One file
 * is parsed on its own, without a type checker: every helper answers "not proven" rather
 * than guess.
 */
export {
  HOISTABLE_PROTOTYPES,
  prototypeMethodHoist,
  prototypeMethodOf,
  type PrototypeMethod,
} from './guards-builtins.js';
export {
  dateNowOperand,
  jsonParseHoist,
  lengthComparison,
  pureCallbackOf,
  setHasProblem,
  spreadPushProblem,
  TIMER_ARITY,
  timerForward,
} from './guards.js';
export { impurityOf, memoizeBlocker, memoizeTargetProblem, primitiveParameter } from './purity.js';
export {
  declarations,
  declaredNames,
  findDeclaration,
  identifiersNamed,
  isGlobal,
  isReference,
  references,
  resolveVariable,
} from './scope.js';
export {
  enclosingFunction,
  enclosingLoop,
  findNode,
  hasExportModifier,
  hasModifier,
  isConstDeclaration,
  isFunctionLiteral,
  isIterationCallback,
  isLoop,
  isMethodCall,
  isNumberLiteral,
  isPrimitiveLiteral,
  isStaticCall,
  isWriteTarget,
  lineOf,
  literalRegex,
  loopDepthOf,
  methodCall,
  outerExpression,
  parseSource,
  quoteString,
  regexParts,
  returnedExpressions,
  statefulFlags,
  unwrap,
  walk,
  type MethodCall,
} from './syntax.js';
export {
  classLoadEffect,
  isBooleanContext,
  isInertInitializer,
  isKnownSet,
  isKnownString,
  isSideEffectFree,
  regexLiteralOf,
} from './values.js';
export {
  closureHoist,
  shapeMerge,
  sharedRegexProblem,
  type ClosureHoist,
  type ShapeMerge,
} from './guards-hot.js';
