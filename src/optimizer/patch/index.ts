export { applyEdits, applyTemplate, type PatchOutcome } from './apply.js';
export { checkConstraints, forbiddenReason, MAX_CHANGED_LINES, MAX_FILES } from './constraints.js';
export { countChangedLines, diffFiles, unifiedDiff } from './diff.js';
export { normalizedAst, structuralCheck, syntaxError } from './structural.js';
export { TEMPLATES, type Template } from './templates/index.js';
