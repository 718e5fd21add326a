import { colorPreference } from '../config/index.js';

/**
 * Colour and symbols for a terminal, plain text for everything else. A few ANSI SGR codes
 * are all the CLI needs; a dependency would cost more than these lines.
 */
interface Style {
  readonly enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  /** `✓ ` on a terminal, nothing otherwise: a pipe gets the words alone. */
  readonly ok: string;
  readonly fail: string;
  readonly warn: string;
}

const sgr =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;
const same = (text: string): string => text;

function createStyle(enabled: boolean): Style {
  return {
    enabled,
    red: enabled ? sgr(31, 39) : same,
    green: enabled ? sgr(32, 39) : same,
    yellow: enabled ? sgr(33, 39) : same,
    cyan: enabled ? sgr(36, 39) : same,
    dim: enabled ? sgr(2, 22) : same,
    bold: enabled ? sgr(1, 22) : same,
    ok: enabled ? '\u001b[32m✓\u001b[39m ' : '',
    fail: enabled ? '\u001b[31m✗\u001b[39m ' : '',
    warn: enabled ? '\u001b[33m!\u001b[39m ' : '',
  };
}

const cache = new Map<'stdout' | 'stderr', Style>();

/** The style of one output stream: NO_COLOR / FORCE_COLOR, else colour on a terminal. */
export function styleOf(stream: 'stdout' | 'stderr'): Style {
  let style = cache.get(stream);
  if (!style) {
    const preference = colorPreference();
    const tty = stream === 'stdout' ? process.stdout.isTTY : process.stderr.isTTY;
    style = createStyle(preference === 'always' || (preference === 'auto' && tty === true));
    cache.set(stream, style);
  }
  return style;
}

/** Colours a unified diff line by line: headers bold, hunks cyan, additions green, removals red. */
export function styleDiff(diff: string, style: Style): string {
  if (!style.enabled) return diff;
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('diff --git') || line.startsWith('+++ ') || line.startsWith('--- '))
        return style.bold(line);
      if (line.startsWith('@@')) return style.cyan(line);
      if (line.startsWith('+')) return style.green(line);
      if (line.startsWith('-')) return style.red(line);
      return line;
    })
    .join('\n');
}
