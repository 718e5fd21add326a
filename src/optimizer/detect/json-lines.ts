import { readFile } from 'node:fs/promises';
/**
 * JSON with line numbers: `JSON.parse` gives the value, this gives where each member sits so
 * detection can point at `package.json:12` rather than just `package.json`.
 */

export interface LocatedJson {
  readonly value: unknown;
  /** 1-based line of the member at `path` (object keys and array indexes), if present. */
  lineOf(...path: (string | number)[]): number | undefined;
  /** The trimmed text of a 1-based line. */
  lineText(line: number): string;
}

/** Parse `text` (throws JSON.parse's SyntaxError when it is not JSON). */
export function parseLocatedJson(text: string): LocatedJson {
  const value: unknown = JSON.parse(text);
  const lines = new Map<string, number>();
  locate(text, lines);
  const sourceLines = text.split(/\r?\n/);
  return {
    value,
    lineOf: (...path) => lines.get(pointer(path)),
    lineText: (line) => (sourceLines[line - 1] ?? '').trim(),
  };
}

function pointer(path: readonly (string | number)[]): string {
  return path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

/**
 * One pass over text already known to be valid JSON, recording the line of every object key
 * and array element under its JSON-pointer-like path. Duplicate keys keep the last one, as
 * JSON.parse does.
 */
function locate(text: string, out: Map<string, number>): void {
  let i = 0;
  let line = 1;

  const skipWhitespace = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === '\n') line += 1;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
      i += 1;
    }
  };

  const readString = (): string => {
    const start = i;
    i += 1; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i += 1;
    return JSON.parse(text.slice(start, i)) as string;
  };

  const readValue = (path: (string | number)[]): void => {
    skipWhitespace();
    const c = text[i];
    if (c === '{') {
      i += 1;
      skipWhitespace();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      for (;;) {
        skipWhitespace();
        const keyLine = line;
        const key = readString();
        const childPath = [...path, key];
        out.set(pointer(childPath), keyLine);
        skipWhitespace();
        i += 1; // ':'
        readValue(childPath);
        skipWhitespace();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i += 1;
      skipWhitespace();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      for (let index = 0; ; index += 1) {
        skipWhitespace();
        out.set(pointer([...path, index]), line);
        readValue([...path, index]);
        skipWhitespace();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    // number, true, false, null: no newline inside
    while (i < text.length && !/[\s,\]}]/.test(text[i] ?? '')) i += 1;
  };

  readValue([]);
}

/**
 * Reads and parses a JSON file with line locations: undefined when it does not exist, and
 * `invalid(message)` thrown when it is not JSON (each caller names its own error).
 */
export async function readLocatedJsonFile(
  path: string,
  invalid: (message: string) => Error,
): Promise<LocatedJson | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return parseLocatedJson(text);
  } catch (err) {
    throw invalid((err as Error).message);
  }
}
