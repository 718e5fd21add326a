/**
 * The rungs of the tolerance ladder as normalised "views" of a text. Each rung's view is a
 * coarsening of the one before it (a match at one rung is still a match at every looser one),
 * and every view keeps a map back to the original offsets, so a match found in a view replaces
 * exactly the original characters it came from and nothing around them.
 */
import type { MatchKind } from './types.js';

/** The ladder, strictest first. */
export const RUNGS: readonly MatchKind[] = [
  'exact',
  'trailing-whitespace',
  'indentation',
  'unicode-punctuation',
  'quote-style',
];

const TRAILING = 1;
const LEADING = 2;
const PUNCTUATION = 3;
const QUOTES = 4;

/** What models type for what code holds: typographic quotes, dashes, ellipsis, odd spaces. */
const PUNCTUATION_MAP: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u00A0': ' ',
  '\u2007': ' ',
  '\u2009': ' ',
  '\u202F': ' ',
};

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f' || c === '\v';

/** A normalised text and, per view character, the original span `[from, to)` it came from. */
export interface View {
  text: string;
  from: number[];
  to: number[];
}

/**
 * Builds the view of `text` at `rung`. Line breaks (`\n` or `\r\n`) become `\n` at every rung,
 * so line endings never decide a match. Line by line, looser rungs drop trailing whitespace,
 * then leading whitespace, then map Unicode punctuation to ASCII, then fold `'` into `"`.
 */
export function buildView(text: string, rung: MatchKind): View {
  const level = RUNGS.indexOf(rung);
  const chars: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (;;) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = text.length;
    const end = nl > i && text[nl - 1] === '\r' ? nl - 1 : nl;
    const lineChars: string[] = [];
    const lineFrom: number[] = [];
    for (let k = i; k < end; k++) {
      let c = text[k]!;
      if (level >= PUNCTUATION) c = PUNCTUATION_MAP[c] ?? c;
      if (level >= QUOTES && c === "'") c = '"';
      for (const part of c) {
        lineChars.push(part);
        lineFrom.push(k);
      }
    }
    let a = 0;
    let b = lineChars.length;
    if (level >= TRAILING) while (b > a && isBlank(lineChars[b - 1]!)) b--;
    if (level >= LEADING) while (a < b && isBlank(lineChars[a]!)) a++;
    for (let k = a; k < b; k++) {
      chars.push(lineChars[k]!);
      from.push(lineFrom[k]!);
      to.push(lineFrom[k]! + 1);
    }
    if (nl === text.length) break;
    chars.push('\n');
    from.push(end);
    to.push(nl + 1);
    i = nl + 1;
  }
  return { text: chars.join(''), from, to };
}

/** The leading whitespace of a line. */
export function indentOf(line: string): string {
  let n = 0;
  while (n < line.length && isBlank(line[n]!)) n++;
  return line.slice(0, n);
}

/** Lines of a text with `\r\n` or `\n` breaks, without the breaks. */
export function splitLines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Whether a line has leading (`side` 'start') or trailing whitespace before/after content. */
export function hasPadding(line: string, side: 'start' | 'end'): boolean {
  if (line.trim() === '') return false;
  return side === 'start' ? isBlank(line[0]!) : isBlank(line[line.length - 1]!);
}

/** The rung index of a match kind (0 = exact). */
export function rungLevel(kind: MatchKind): number {
  return RUNGS.indexOf(kind);
}

export const LEVEL = { TRAILING, LEADING, PUNCTUATION, QUOTES } as const;
