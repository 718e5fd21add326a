/**
 * The shapes of the edit engine: what a tool call asks for, what it gets back. Failures are
 * values, not exceptions: the tool hands `message` to the model, which retries.
 */

/** How the edit was located, loosest last. Every rung still demands a unique place. */
export type MatchKind =
  'exact' | 'trailing-whitespace' | 'indentation' | 'unicode-punctuation' | 'quote-style';

/** One replacement in one file: `oldText` is located, then replaced by `newText`. */
export interface EditRequest {
  oldText: string;
  newText: string;
  /** Replace every occurrence found at the first rung that finds any (default: exactly one). */
  replaceAll?: boolean;
}

export type EditFailureCode =
  'EDIT_EMPTY' | 'EDIT_UNCHANGED' | 'EDIT_NO_MATCH' | 'EDIT_AMBIGUOUS' | 'EDIT_FILE_NOT_FOUND';

/** A place `oldText` matched, for the model to pick from (1-based line, first matched line). */
export interface EditCandidate {
  line: number;
  matchedBy: MatchKind;
  /** The file's text of that line, trimmed and cut to 120 characters. */
  preview: string;
}

export interface EditApplied {
  ok: true;
  content: string;
  matchedBy: MatchKind;
  /** 1-based line where the (first) replaced text starts, in the original content. */
  line: number;
  /** How many places were replaced: 1 unless `replaceAll`. */
  replacements: number;
}

export interface EditFailure {
  ok: false;
  code: EditFailureCode;
  /** Written for the model: what went wrong, where, and what to send instead. */
  message: string;
  candidates?: EditCandidate[];
}

export type EditResult = EditApplied | EditFailure;

/** One edit of a multi-file patch. */
export interface FileEdit extends EditRequest {
  path: string;
}
