/**
 * A small unified-diff writer for one modified file, `git apply -p1` compatible (a/ and b/
 * prefixes, 3 lines of context, `\ No newline at end of file` markers). Line matching is
 * Myers' greedy O((N+M)·D) algorithm after trimming the common prefix and suffix: template
 * edits touch a handful of lines, so D stays tiny even in large files.
 */

const CONTEXT = 3;

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith('\n');
  const lines = (finalNewline ? text.slice(0, -1) : text).split('\n');
  return { lines, finalNewline };
}

/** The shortest edit script turning `a` into `b` (lines compared exactly). */
function myers(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice());
        break outer;
      }
    }
    v = v.slice();
  }
  // Walk the trace backwards to recover the path.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK =
      k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[--x]! });
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ kind: '+', line: b[--y]! });
    else ops.push({ kind: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', line: a[--x]! });
    y--;
  }
  return ops.reverse();
}

/**
 * A unified diff of `file` from `before` to `after`; '' when they are equal.
 *
 * @example unifiedDiff('src/a.ts', 'x\n', 'y\n')
 * // diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-x\n+y\n
 */
export function unifiedDiff(file: string, before: string, after: string): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  // Lines whose "no newline at end" status differs are different lines for the diff.
  const aLines = a.lines.map((l, i) =>
    i === a.lines.length - 1 && !a.finalNewline ? l + '\0' : l,
  );
  const bLines = b.lines.map((l, i) =>
    i === b.lines.length - 1 && !b.finalNewline ? l + '\0' : l,
  );

  let prefix = 0;
  while (prefix < aLines.length && prefix < bLines.length && aLines[prefix] === bLines[prefix]) {
    prefix++;
  }
  let suffix = 0;
  while (
    suffix < aLines.length - prefix &&
    suffix < bLines.length - prefix &&
    aLines[aLines.length - 1 - suffix] === bLines[bLines.length - 1 - suffix]
  ) {
    suffix++;
  }
  const ops: Op[] = [
    ...aLines.slice(0, prefix).map((line): Op => ({ kind: ' ', line })),
    ...myers(
      aLines.slice(prefix, aLines.length - suffix),
      bLines.slice(prefix, bLines.length - suffix),
    ),
    ...aLines.slice(aLines.length - suffix).map((line): Op => ({ kind: ' ', line })),
  ];

  // Group changes into hunks with CONTEXT lines around them.
  const changed = ops.map((op, i) => (op.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
  const hunks: Array<[number, number]> = [];
  for (const i of changed) {
    const from = Math.max(0, i - CONTEXT);
    const to = Math.min(ops.length, i + CONTEXT + 1);
    const last = hunks[hunks.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else hunks.push([from, to]);
  }

  const out = [`diff --git a/${file} b/${file}`, `--- a/${file}`, `+++ b/${file}`];
  // Line numbers before each op.
  const aAt: number[] = [];
  const bAt: number[] = [];
  let ai = 1;
  let bi = 1;
  for (const op of ops) {
    aAt.push(ai);
    bAt.push(bi);
    if (op.kind !== '+') ai++;
    if (op.kind !== '-') bi++;
  }
  for (const [from, to] of hunks) {
    const slice = ops.slice(from, to);
    const aCount = slice.filter((op) => op.kind !== '+').length;
    const bCount = slice.filter((op) => op.kind !== '-').length;
    const aStart = aCount === 0 ? aAt[from]! - 1 : aAt[from]!;
    const bStart = bCount === 0 ? bAt[from]! - 1 : bAt[from]!;
    const range = (start: number, count: number) =>
      count === 1 ? `${start}` : `${start},${count}`;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const op of slice) {
      if (op.line.endsWith('\0')) {
        out.push(op.kind + op.line.slice(0, -1), '\\ No newline at end of file');
      } else {
        out.push(op.kind + op.line);
      }
    }
  }
  return out.join('\n') + '\n';
}

/** Added plus removed lines of a unified diff. */
export function countChangedLines(diff: string): number {
  let count = 0;
  for (const line of diff.split('\n')) {
    if (
      (line.startsWith('+') && !line.startsWith('+++ ')) ||
      (line.startsWith('-') && !line.startsWith('--- '))
    ) {
      count++;
    }
  }
  return count;
}

/** The `b/` paths a unified diff touches (`a/` for deletions). */
export function diffFiles(diff: string): string[] {
  const files = new Set<string>();
  for (const line of diff.split('\n')) {
    const m = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
    if (m) {
      files.add(m[1]!);
      files.add(m[2]!);
    }
  }
  return [...files];
}
