/**
 * Re-indentation for matches found ignoring indentation: the model's `oldText` and the file
 * disagree on leading whitespace (shifted by a level, tabs for spaces), so `newText`, written
 * in the model's indentation, is moved into the file's before it lands.
 *
 * Indentation is compared in columns. From the pairs (model's line, file's line) the transform
 * `fileColumns = modelColumns + delta` is fitted for a tab width W of 2, 3, 4 or 8; a fit with
 * delta 0 (a pure tabs-for-spaces swap) is preferred, then W 4. The result is written in the
 * file's style: tabs when its matched lines are tab-indented, else spaces.
 */
import { indentOf } from './normalize.js';

export interface IndentTransform {
  tabWidth: number;
  delta: number;
  useTabs: boolean;
}

const WIDTHS = [2, 3, 4, 8];

function columns(indent: string, tabWidth: number): number {
  let col = 0;
  for (const c of indent) col = c === '\t' ? col - (col % tabWidth) + tabWidth : col + 1;
  return col;
}

/**
 * Fits the transform from pairs of (model line, file line); blank lines are ignored.
 * `fileUsesTabs` is the file's own style, for when no matched line is indented. Returns
 * null when nothing needs to change (no pairs, or every pair already agrees).
 */
export function fitIndent(
  pairs: readonly [string, string][],
  fileUsesTabs: boolean,
): IndentTransform | null {
  const indents = pairs
    .filter(([m, f]) => m.trim() !== '' && f.trim() !== '')
    .map(([m, f]) => [indentOf(m), indentOf(f)] as const);
  if (indents.length === 0 || indents.every(([m, f]) => m === f)) return null;
  // The matched lines' own style decides; top-level lines say nothing, so the file does.
  const indented = indents.filter(([, f]) => f !== '');
  const tabbed = indented.filter(([, f]) => f.startsWith('\t')).length;
  const useTabs = indented.length > 0 ? tabbed * 2 > indented.length : fileUsesTabs;
  const fits: IndentTransform[] = [];
  for (const tabWidth of WIDTHS) {
    const deltas = indents.map(([m, f]) => columns(f, tabWidth) - columns(m, tabWidth));
    if (deltas.every((d) => d === deltas[0])) fits.push({ tabWidth, delta: deltas[0]!, useTabs });
  }
  const best = fits.find((t) => t.delta === 0) ??
    fits.find((t) => t.tabWidth === 4) ??
    fits[0] ??
      // No consistent fit (the model re-flowed nesting): follow the first line's shift.
      {
        tabWidth: 4,
        delta: columns(indents[0]![1], 4) - columns(indents[0]![0], 4),
        useTabs,
      };
  return best;
}

/** Moves one line's indentation by the transform; empty lines stay empty. */
export function reindentLine(line: string, t: IndentTransform): string {
  if (line === '') return line;
  const indent = indentOf(line);
  const col = Math.max(0, columns(indent, t.tabWidth) + t.delta);
  const lead = t.useTabs
    ? '\t'.repeat(Math.floor(col / t.tabWidth)) + ' '.repeat(col % t.tabWidth)
    : ' '.repeat(col);
  return lead + line.slice(indent.length);
}

/** Whether most indented lines of a text start with a tab. */
export function usesTabs(content: string): boolean {
  let tabs = 0;
  let spaces = 0;
  for (const m of content.matchAll(/^[ \t]/gm)) {
    if (m[0] === '\t') tabs++;
    else spaces++;
  }
  return tabs > spaces;
}
