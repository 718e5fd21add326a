/**
 * Hard limits on a candidate before anything runs it: small (≤ 5 files, ≤ 200 changed lines)
 * and only the repository's own source — never configuration, tests, lockfiles or the
 * dependency manifest, which a performance patch has no business touching.
 */
import type { Candidate, PatchRejection } from '../../contracts/index.js';
import { countChangedLines, diffFiles } from './diff.js';

export const MAX_FILES = 5;
export const MAX_CHANGED_LINES = 200;

const FORBIDDEN: Array<[RegExp, string]> = [
  [/(^|\/)package\.json$/, 'the package manifest (dependencies)'],
  [
    /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|deno\.lock)$/,
    'a lockfile',
  ],
  [/(^|\/)(node_modules|vendor|dist|build|coverage)\//, 'vendored or generated output'],
  [/(^|\/)[^/]*\.config\.[^/]+$/, 'a tool configuration'],
  [/(^|\/)(tsconfig|jsconfig)[^/]*\.json$/, 'a TypeScript configuration'],
  [
    /(^|\/)\.(eslintrc|prettierrc|babelrc|swcrc|npmrc|yarnrc|nvmrc|editorconfig|browserslistrc)[^/]*$/,
    'a tool configuration',
  ],
  [/(^|\/)\.(github|husky|vscode)\//, 'CI or editor configuration'],
  [
    /(^|\/)(\.patchbay\.json|Dockerfile|docker-compose[^/]*|Makefile)$/,
    'build or project configuration',
  ],
  [/(^|\/)(__tests__|__mocks__|test|tests|spec|e2e|fixtures)\//, 'a test'],
  [/\.(test|spec|bench)\.[cm]?[jt]sx?$/, 'a test'],
];

/** Why `file` may not be patched, or undefined when it may. */
export function forbiddenReason(file: string): string | undefined {
  const normalized = file.replace(/\\/g, '/');
  if (normalized.split('/').includes('..') || normalized.startsWith('/'))
    return 'a path outside the repository';
  return FORBIDDEN.find(([re]) => re.test(normalized))?.[1];
}

/**
 * The first limit a candidate breaks, or null when it respects them all. The files come from
 * the diff itself as well as from `candidate.files`, so a diff cannot smuggle in a file.
 *
 * @example checkConstraints(candidate) // null, or { code: 'PATCH_FORBIDDEN_FILE', message }
 */
export function checkConstraints(candidate: Candidate): PatchRejection | null {
  const files = [...new Set([...candidate.files, ...diffFiles(candidate.diff)])];
  for (const file of files) {
    const reason = forbiddenReason(file);
    if (reason) {
      return {
        code: 'PATCH_FORBIDDEN_FILE',
        message: `${file} is ${reason}: candidates may not change it`,
      };
    }
  }
  if (files.length > MAX_FILES) {
    return {
      code: 'PATCH_TOO_LARGE',
      message: `${files.length} files changed; the limit is ${MAX_FILES}`,
    };
  }
  const changed = Math.max(candidate.changedLines, countChangedLines(candidate.diff));
  if (changed > MAX_CHANGED_LINES) {
    return {
      code: 'PATCH_TOO_LARGE',
      message: `${changed} lines changed; the limit is ${MAX_CHANGED_LINES}`,
    };
  }
  return null;
}
