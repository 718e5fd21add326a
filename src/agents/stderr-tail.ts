/** Colour and cursor escape sequences (CSI and OSC) that CLIs print to a terminal-less stderr. */
const ANSI =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Lines that say nothing about why a CLI stopped: blank, box drawing, stack frames. */
function meaningful(line: string): boolean {
  const t = line.trim();
  if (t === '') return false;
  // Box drawing (U+2500–U+257F) and ASCII rules: frames around a message, not the message.
  if (/^[\u2500-\u257f\s|+=*-]+$/u.test(t)) return false;
  if (/^at\s.+[:(]\d+/.test(t)) return false;
  // A Rust backtrace (RUST_BACKTRACE=1): `Stack backtrace:`, `0: <unknown>`, `3: std::rt::lang_start`.
  if (/^stack backtrace:$/i.test(t) || /^\d+: (<unknown>|\S*::\S*)$/.test(t)) return false;
  return true;
}

/**
 * The end of an agent CLI's stderr, kept while it runs (bounded), to explain a failure that
 * came before its stream began: the CLI's own last meaningful lines, without ANSI codes.
 */
export class StderrTail {
  private text = '';

  constructor(private readonly maxChars = 8192) {}

  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.maxChars);
  }

  /** The last `n` meaningful lines, oldest first. */
  lines(n = 5): string[] {
    return stripAnsi(this.text)
      .split(/\r?\n/)
      .filter(meaningful)
      .slice(-n)
      .map((l) => l.trim());
  }

  /** The last meaningful line, or undefined when stderr said nothing. */
  last(): string | undefined {
    return this.lines(1)[0];
  }
}
