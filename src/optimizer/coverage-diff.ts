/**
 * The lines a candidate's diff adds, as coverage.ts maps them onto what the benchmark ran.
 */

/**
 * The lines a unified diff adds, 1-based in the new file, per repo-relative path (only the
 * `files` given; deleted files have none). A change that only deletes lines marks its
 * neighbours in the new file, the code around the hole, so it is not invisible.
 *
 * @example changedLines(diff, ['src/fib.js']) // Map { 'src/fib.js' => [4, 5, 6, 7] }
 */
export function changedLines(diff: string, files: readonly string[]): Map<string, number[]> {
  const wanted = new Set(files.map((f) => f.replace(/^\.\//, '')));
  const out = new Map<string, Set<number>>();
  let lines: Set<number> | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  let next = 0;
  // The current run of -/+ lines: did it add anything, and where did it start?
  let runStart = -1;
  let runAdded = false;
  const endRun = (): void => {
    if (runStart !== -1 && !runAdded && lines) {
      if (runStart > 1) lines.add(runStart - 1);
      lines.add(runStart);
    }
    runStart = -1;
    runAdded = false;
  };
  for (const line of diff.split('\n')) {
    if (oldLeft > 0 || newLeft > 0) {
      const tag = line[0];
      if (tag === '\\') continue; // "\ No newline at end of file"
      if (tag === '+') {
        if (runStart === -1) runStart = next;
        runAdded = true;
        lines?.add(next);
        next++;
        newLeft--;
      } else if (tag === '-') {
        if (runStart === -1) runStart = next;
        oldLeft--;
      } else {
        endRun();
        next++;
        oldLeft--;
        newLeft--;
      }
      if (oldLeft <= 0 && newLeft <= 0) endRun();
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      next = Number(hunk[2]);
      newLeft = hunk[3] === undefined ? 1 : Number(hunk[3]);
      continue;
    }
    if (line.startsWith('+++ ')) {
      const path = unquote(line.slice(4).trim());
      const file = path === '/dev/null' ? undefined : path.replace(/^b\//, '');
      lines = undefined;
      if (file !== undefined && wanted.has(file)) {
        lines = out.get(file) ?? new Set();
        out.set(file, lines);
      }
    }
  }
  return new Map([...out].map(([file, set]) => [file, [...set].sort((a, b) => a - b)]));
}

/**
 * The same diff the other way round (what undoes it): hunk ranges swapped, `+` and `-` lines
 * swapped, file headers kept. `changedLines(reverseDiff(d), files)` is then the lines `d`
 * removes or replaces, numbered in the old file: where the base's coverage says how often they ran.
 */
export function reverseDiff(diff: string): string {
  let oldLeft = 0;
  let newLeft = 0;
  return diff
    .split('\n')
    .map((line) => {
      if (oldLeft > 0 || newLeft > 0) {
        const tag = line[0];
        if (tag === '\\') return line;
        if (tag === '+') {
          newLeft--;
          return `-${line.slice(1)}`;
        }
        if (tag === '-') {
          oldLeft--;
          return `+${line.slice(1)}`;
        }
        oldLeft--;
        newLeft--;
        return line;
      }
      const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/.exec(line);
      if (!hunk) return line;
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      const range = (start: string, count: string | undefined) =>
        count === undefined ? start : `${start},${count}`;
      return `@@ -${range(hunk[3]!, hunk[4])} +${range(hunk[1]!, hunk[2])} @@${hunk[5]}`;
    })
    .join('\n');
}

/** git quotes unusual paths C-style: `"b/sp\303\244ce.js"` (octal bytes of UTF-8). */
function unquote(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const bytes: number[] = [];
  const body = path.slice(1, -1);
  const escapes: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(escapes[body[i + 1] as string] ?? body.charCodeAt(i + 1));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `[3, 4, 5, 9]` → `['f:3-5', 'f:9']`. */
export function lineSpans(file: string, lines: readonly number[]): string[] {
  const spans: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let j = i;
    while (j + 1 < lines.length && (lines[j + 1] as number) === (lines[j] as number) + 1) j++;
    spans.push(i === j ? `${file}:${lines[i]}` : `${file}:${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return spans;
}
