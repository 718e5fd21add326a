/**
 * `applyEdit`: replace `oldText` by `newText` in one file's content, climbing the tolerance
 * ladder only as far as needed and never onto an ambiguous place.
 *
 * Rules, in order:
 * 1. The first rung (exact, then trailing whitespace, indentation, Unicode punctuation, quote
 *    style) where `oldText` occurs at all decides; two places there is an ambiguity and stops
 *    the climb (a looser rung can only find more).
 * 2. A unique exact match is applied even if looser rungs see the text elsewhere too.
 * 3. A unique tolerant match is applied only if it is still the only place at the loosest
 *    rung: drift can make the model's text look like a second place, and guessing between
 *    them is how an edit lands in the wrong spot.
 * Only the matched characters change; the file's line endings are kept and `newText` is
 * written with them.
 */
import { fitIndent, reindentLine, usesTabs } from './indent.js';
import { buildNeedle, findMatches, lineAt, type Match } from './locate.js';
import { buildView, LEVEL, RUNGS, rungLevel, splitLines } from './normalize.js';
import type { EditCandidate, EditFailure, EditRequest, EditResult, MatchKind } from './types.js';

const LOOSEST = RUNGS[RUNGS.length - 1]!;

const TOLERANCE: Record<MatchKind, string> = {
  exact: 'exactly',
  'trailing-whitespace': 'ignoring trailing whitespace',
  indentation: 'ignoring indentation',
  'unicode-punctuation': 'ignoring indentation and Unicode punctuation',
  'quote-style': 'ignoring indentation, Unicode punctuation and \' vs " quotes',
};

const RETRY =
  'Nothing was changed. Include more surrounding lines in oldText, copied exactly from the file, so that it matches one place only';

/** The file's line break: `\r\n` when most of its breaks are, else `\n`. */
function lineBreakOf(content: string): string {
  const all = content.split('\n').length - 1;
  const crlf = content.split('\r\n').length - 1;
  return crlf > 0 && crlf * 2 >= all ? '\r\n' : '\n';
}

function candidates(content: string, matches: Match[], kind: MatchKind): EditCandidate[] {
  const lines = splitLines(content);
  return matches.map((m) => {
    const line = lineAt(content, m.start);
    return { line, matchedBy: kind, preview: (lines[line - 1] ?? '').trim().slice(0, 120) };
  });
}

function listLines(c: EditCandidate[]): string {
  const lines = [...new Set(c.map((x) => x.line))];
  const shown = lines.slice(0, 10).join(', ');
  return lines.length > 10 ? `${shown} and ${String(lines.length - 10)} more` : shown;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function fail(code: EditFailure['code'], message: string, cands?: EditCandidate[]): EditFailure {
  return cands ? { ok: false, code, message, candidates: cands } : { ok: false, code, message };
}

/** The text that replaces one match: re-indented for tolerant rungs, in the file's breaks. */
function replacement(
  content: string,
  match: Match,
  kind: MatchKind,
  oldText: string,
  newText: string,
  eol: string,
): string {
  let lines = splitLines(newText);
  if (rungLevel(kind) >= LEVEL.LEADING) {
    const oldLines = splitLines(oldText);
    const fileLines = splitLines(content.slice(match.start)).slice(0, oldLines.length);
    const first = match.lineAligned ? 0 : 1;
    const pairs = oldLines.map((l, i) => [l, fileLines[i] ?? ''] as [string, string]).slice(first);
    const t = fitIndent(pairs, usesTabs(content));
    if (t) lines = lines.map((l, i) => (i < first ? l : reindentLine(l, t)));
  }
  return lines.join(eol);
}

function noMatch(content: string, oldText: string): EditFailure {
  let hint = '';
  const oldLines = splitLines(oldText);
  if (oldLines.filter((l) => l.trim()).every((l) => /^\s*\d+\s*(?:[:|\u2192]|\t)/.test(l))) {
    hint = ' oldText looks like it starts with line numbers; send the file text without them.';
  } else {
    const firstLine = oldLines.find((l) => l.trim() !== '');
    if (firstLine !== undefined) {
      const needle = buildNeedle(firstLine.trim(), LOOSEST);
      const found = findMatches(content, buildView(content, LOOSEST), needle);
      const where = listLines(candidates(content, found, LOOSEST));
      hint = found.length
        ? ` Its first line alone appears at line ${where}; the lines after it differ from the file there.`
        : ' Not even its first line is in the file.';
    }
  }
  return fail(
    'EDIT_NO_MATCH',
    `oldText was not found in the file, not even ${TOLERANCE[LOOSEST]}.${hint} Nothing was changed. Read the file again and copy oldText from it exactly.`,
  );
}

/**
 * Applies one edit to `content`.
 *
 * @example
 * const r = applyEdit('a = 1;\nb = 2;\n', { oldText: '  b = 2;', newText: 'b = 3;' });
 * // r.ok && r.content === 'a = 1;\nb = 3;\n' && r.matchedBy === 'indentation' && r.line === 2
 */
export function applyEdit(content: string, edit: EditRequest): EditResult {
  const { oldText, newText } = edit;
  if (oldText === '') {
    return fail(
      'EDIT_EMPTY',
      'oldText is empty. Nothing was changed. Give the exact text to replace, with enough surrounding lines to be unique; to create or overwrite a whole file, write the file instead.',
    );
  }
  if (oldText === newText) {
    return fail('EDIT_UNCHANGED', 'oldText and newText are the same: there is nothing to change.');
  }
  const eol = lineBreakOf(content);
  // Whitespace-only text has nothing to anchor a tolerant match: exact or nothing.
  const rungs = oldText.trim() === '' ? RUNGS.slice(0, 1) : RUNGS;
  for (const kind of rungs) {
    const matches = findMatches(content, buildView(content, kind), buildNeedle(oldText, kind));
    if (matches.length === 0) continue;
    if (edit.replaceAll) return replaceEvery(content, matches, kind, oldText, newText, eol);
    if (matches.length > 1) {
      const c = candidates(content, matches, kind);
      return fail(
        'EDIT_AMBIGUOUS',
        `oldText matches ${String(matches.length)} places ${TOLERANCE[kind]} (lines ${listLines(c)}). ${RETRY}, or set replaceAll to change every one.`,
        c,
      );
    }
    const match = matches[0]!;
    if (kind !== 'exact' && kind !== LOOSEST) {
      const loose = findMatches(
        content,
        buildView(content, LOOSEST),
        buildNeedle(oldText, LOOSEST),
      );
      if (loose.length > 1) {
        const c = candidates(content, loose, LOOSEST);
        const here = lineAt(content, match.start);
        return fail(
          'EDIT_AMBIGUOUS',
          `oldText is not in the file exactly. ${capitalize(TOLERANCE[kind])} it matches line ${String(here)}, but ${TOLERANCE[LOOSEST]} it matches ${String(loose.length)} places (lines ${listLines(c)}), so it is not clear which one is meant. ${RETRY}.`,
          c,
        );
      }
    }
    const text = replacement(content, match, kind, oldText, newText, eol);
    return {
      ok: true,
      content: content.slice(0, match.start) + text + content.slice(match.end),
      matchedBy: kind,
      line: lineAt(content, match.start),
      replacements: 1,
    };
  }
  return noMatch(content, oldText);
}

/** `replaceAll`: every non-overlapping place found at the deciding rung, left to right. */
function replaceEvery(
  content: string,
  matches: Match[],
  kind: MatchKind,
  oldText: string,
  newText: string,
  eol: string,
): EditResult {
  let out = '';
  let at = 0;
  let count = 0;
  for (const m of matches) {
    if (m.start < at) continue;
    out += content.slice(at, m.start) + replacement(content, m, kind, oldText, newText, eol);
    at = m.end;
    count++;
  }
  return {
    ok: true,
    content: out + content.slice(at),
    matchedBy: kind,
    line: lineAt(content, matches[0]!.start),
    replacements: count,
  };
}
