export {
  applyEdits,
  applyTemplate,
  type ApplyTemplateOptions,
  type PatchOutcome,
} from './apply.js';
export { checkConstraints, forbiddenReason, MAX_CHANGED_LINES, MAX_FILES } from './constraints.js';
export { countChangedLines, diffFiles, unifiedDiff } from './diff.js';
export { normalizedAst, structuralCheck, syntaxError } from './structural.js';
export { TEMPLATES, type Template } from './templates/index.js';
export { detectLanguageLevel, featuresOf } from './level-detect.js';
export {
  fileLevel,
  MODERN,
  type FileLevel,
  type LanguageLevel,
  type SyntaxFeature,
} from './level.js';
