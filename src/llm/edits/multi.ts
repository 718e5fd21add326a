/**
 * `applyEdits`: a multi-file patch, all or nothing. Edits apply in order, each seeing the
 * edits before it on the same file; if any fails, no file changes and every failure is
 * reported (by index and path) so the model can fix them in one retry.
 */
import { applyEdit } from './apply.js';
import type { EditApplied, EditFailure, FileEdit, MatchKind } from './types.js';

export interface PatchEditApplied {
  index: number;
  path: string;
  matchedBy: MatchKind;
  line: number;
  replacements: number;
}

export interface PatchEditFailed {
  index: number;
  path: string;
  failure: EditFailure;
}

export type PatchResult =
  | {
      ok: true;
      /** The new content of every file an edit touched (others are left out). */
      files: Map<string, string>;
      applied: PatchEditApplied[];
    }
  | { ok: false; errors: PatchEditFailed[]; message: string };

/**
 * Applies `edits` to `files` (path → content) without mutating `files`.
 *
 * @example
 * const r = applyEdits(new Map([['a.ts', 'x = 1\n']]), [
 *   { path: 'a.ts', oldText: 'x = 1', newText: 'x = 2' },
 * ]);
 * // r.ok && r.files.get('a.ts') === 'x = 2\n'
 */
export function applyEdits(files: ReadonlyMap<string, string>, edits: FileEdit[]): PatchResult {
  const working = new Map<string, string>();
  const applied: PatchEditApplied[] = [];
  const errors: PatchEditFailed[] = [];
  edits.forEach((edit, index) => {
    const { path } = edit;
    const content = working.get(path) ?? files.get(path);
    if (content === undefined) {
      errors.push({
        index,
        path,
        failure: {
          ok: false,
          code: 'EDIT_FILE_NOT_FOUND',
          message: `${path} does not exist. To create a file, write the whole file instead of editing it.`,
        },
      });
      return;
    }
    const r = applyEdit(content, edit);
    if (!r.ok) {
      errors.push({ index, path, failure: r });
      return;
    }
    working.set(path, r.content);
    applied.push(summary(index, path, r));
  });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `edit ${String(e.index + 1)} (${e.path}): ${e.failure.code}: ${e.failure.message}`,
    );
    return {
      ok: false,
      errors,
      message: `${String(errors.length)} of ${String(edits.length)} edits failed, so none was applied (later edits on a file were tried on it as if the failed ones were not there).\n${lines.join('\n')}`,
    };
  }
  return { ok: true, files: working, applied };
}

function summary(index: number, path: string, r: EditApplied): PatchEditApplied {
  return { index, path, matchedBy: r.matchedBy, line: r.line, replacements: r.replacements };
}
