/**
 * Finding `oldText` in a file at one rung of the ladder: every place its view occurs in the
 * file's view, mapped back to original offsets. A tolerant match must respect what the model
 * wrote at its edges: whitespace it put before its first line or after its last line anchors
 * that edge to a line boundary.
 */
import { buildView, hasPadding, LEVEL, rungLevel, splitLines, type View } from './normalize.js';
import type { MatchKind } from './types.js';

/** One place in the original content; `lineAligned` when it starts at a line's first column. */
export interface Match {
  start: number;
  end: number;
  lineAligned: boolean;
}

export interface Needle {
  kind: MatchKind;
  text: string;
  /** The model's first line had leading whitespace: the match must start a line. */
  anchorStart: boolean;
  /** The model's last line had trailing whitespace: the match must end a line. */
  anchorEnd: boolean;
}

export function buildNeedle(oldText: string, kind: MatchKind): Needle {
  const level = rungLevel(kind);
  const lines = splitLines(oldText);
  return {
    kind,
    text: buildView(oldText, kind).text,
    anchorStart: level >= LEVEL.LEADING && hasPadding(lines[0]!, 'start'),
    anchorEnd: level >= LEVEL.TRAILING && hasPadding(lines[lines.length - 1]!, 'end'),
  };
}

/** Every place `needle` occurs in `content` (whose view at the needle's rung is `view`). */
export function findMatches(content: string, view: View, needle: Needle): Match[] {
  const { text } = view;
  const out: Match[] = [];
  if (needle.text === '') return out;
  const level = rungLevel(needle.kind);
  for (let s = text.indexOf(needle.text); s >= 0; s = text.indexOf(needle.text, s + 1)) {
    const e = s + needle.text.length;
    const atLineStart = s === 0 || text[s - 1] === '\n';
    const atLineEnd = e === text.length || text[e] === '\n';
    if (needle.anchorStart && !atLineStart) continue;
    if (needle.anchorEnd && !atLineEnd) continue;
    // An edge inside one original character's expansion (the "..." of an ellipsis) is no edge.
    if (s > 0 && view.from[s] === view.from[s - 1]) continue;
    if (e < text.length && view.from[e] === view.from[e - 1]) continue;
    let start = view.from[s]!;
    let end = view.to[e - 1]!;
    // Dropped whitespace at the edges belongs to the matched lines: take it along, so the
    // replacement owns the whole line (re-indented) rather than leaving stale padding behind.
    if (level >= LEVEL.LEADING && atLineStart) start = content.lastIndexOf('\n', start - 1) + 1;
    if (level >= LEVEL.TRAILING && atLineEnd && text[e - 1] !== '\n') {
      let nl = content.indexOf('\n', end);
      if (nl < 0) nl = content.length;
      end = nl > 0 && content[nl - 1] === '\r' ? nl - 1 : nl;
    }
    out.push({ start, end, lineAligned: atLineStart });
  }
  return out;
}

/** 1-based line of an offset. */
export function lineAt(content: string, offset: number): number {
  let line = 1;
  for (let i = content.indexOf('\n'); i >= 0 && i < offset; i = content.indexOf('\n', i + 1))
    line++;
  return line;
}
