/**
 * ANSI colours in log lines: SGR sequences (`ESC [ … m`) become styled spans; every other
 * escape sequence (cursor moves, OSC titles) is dropped. Each line starts unstyled.
 */
import type { CSSProperties, ReactNode } from 'react';

/* eslint-disable no-control-regex -- escape sequences are what this matches */
const ESCAPES =
  /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\r/g;
/* eslint-enable no-control-regex */

interface Style {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

const xterm256 = (n: number): string => {
  if (n < 16) return `var(--ansi-${n})`;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (k: number): number => (k === 0 ? 0 : 55 + k * 40);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
};

function applySgr(style: Style, params: string): Style {
  const codes = params === '' ? [0] : params.split(';').map((p) => Number(p) || 0);
  let next: Style = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 22) next.bold = next.dim = false;
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code >= 30 && code <= 37) next.fg = `var(--ansi-${code - 30})`;
    else if (code >= 90 && code <= 97) next.fg = `var(--ansi-${code - 90 + 8})`;
    else if (code >= 40 && code <= 47) next.bg = `var(--ansi-${code - 40})`;
    else if (code >= 100 && code <= 107) next.bg = `var(--ansi-${code - 100 + 8})`;
    else if (code === 39) delete next.fg;
    else if (code === 49) delete next.bg;
    else if ((code === 38 || code === 48) && codes[i + 1] === 5) {
      const colour = xterm256(codes[i + 2] ?? 0);
      if (code === 38) next.fg = colour;
      else next.bg = colour;
      i += 2;
    } else if ((code === 38 || code === 48) && codes[i + 1] === 2) {
      const colour = `rgb(${codes[i + 2] ?? 0},${codes[i + 3] ?? 0},${codes[i + 4] ?? 0})`;
      if (code === 38) next.fg = colour;
      else next.bg = colour;
      i += 4;
    }
  }
  return next;
}

function css(style: Style): CSSProperties | undefined {
  const out: CSSProperties = {};
  if (style.fg) out.color = style.fg;
  if (style.bg) out.backgroundColor = style.bg;
  if (style.bold) out.fontWeight = 700;
  if (style.dim) out.opacity = 0.75;
  if (style.italic) out.fontStyle = 'italic';
  if (style.underline) out.textDecoration = 'underline';
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The text without any escape sequence (for search, copy and plain rendering). */
export const stripAnsi = (text: string): string => text.replace(ESCAPES, '');

/** A line as React nodes: plain text when it has no escape, else styled spans. */
export function renderAnsi(text: string): ReactNode {
  if (!text.includes('\x1b') && !text.includes('\r')) return text;
  const nodes: ReactNode[] = [];
  let style: Style = {};
  let last = 0;
  const push = (chunk: string): void => {
    if (chunk === '') return;
    const s = css(style);
    nodes.push(
      s ? (
        <span key={nodes.length} style={s}>
          {chunk}
        </span>
      ) : (
        chunk
      ),
    );
  };
  for (const m of text.matchAll(ESCAPES)) {
    push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === 'm') style = applySgr(style, m[1] ?? '');
  }
  push(text.slice(last));
  return nodes;
}
