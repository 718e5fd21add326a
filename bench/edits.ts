/**
 * Edit application (issue 15): a corpus of edits generated from real JavaScript and TypeScript
 * in node_modules, each with the drift a model's copy of a file really has (trailing
 * whitespace, indentation shifted or tabs for spaces, quote style, typographic quotes,
 * non-breaking spaces, LF against a CRLF file), applied with src/llm/edits. Every edit's true
 * place is known, so each outcome is classified: applied right, refused (no match or
 * ambiguous), applied at the right place with the wrong text, or applied at a wrong place.
 * Pure CPU, deterministic for a seed: `npx tsx bench/edits.ts [--count 1000] [--seed 1]`.
 * Writes bench/results/edits.json.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { applyEdit, type EditResult } from '../src/llm/edits/index.js';
import { heading, line, main, option, ROOT, round, writeResult } from './lib/harness.js';

const count = option('count', 1000);
const seed = option('seed', 1);
const MODULES = join(ROOT, 'node_modules');

/** Package folders whose sources make the corpus: several styles, two of them tab-indented. */
const SOURCES = [
  'fastify/lib',
  'bullmq/dist/esm',
  'kysely/dist/esm',
  'zod/src',
  'pino/lib',
  'commander/lib',
  'ioredis/built',
  'yaml/dist',
  'pg/lib',
  'ws/lib',
  'cron-parser/lib',
  'fastify-type-provider-zod/dist',
  'better-sqlite3/lib',
  '@opentelemetry/core/build/esm',
];

const DRIFTS = [
  'none',
  'trailing-whitespace',
  'indent-shift',
  'tabs-spaces',
  'quotes',
  'smart-quotes',
  'nbsp',
  'crlf-file',
  'mixed',
] as const;
type Drift = (typeof DRIFTS)[number];
const EDITS = ['rename', 'insert-line', 'delete-line', 'wrap'] as const;
type Outcome =
  'correct' | 'refused-no-match' | 'refused-ambiguous' | 'wrong-result' | 'wrong-place';

// ---------------------------------------------------------------- corpus

/** mulberry32: small, seedable, good enough to pick spans. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function collect(path: string, out: string[]): void {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return;
  }
  if (stat.isFile()) {
    if (!/\.(?:[mc]?[jt]s)$/.test(path) || /\.d\.[mc]?ts$|\.min\./.test(path)) return;
    if (stat.size < 1_000 || stat.size > 150_000) return;
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    // Minified or generated-on-one-line files are not what a model edits.
    if (text.includes('\r') || lines.some((l) => l.length > 400)) return;
    out.push(path);
    return;
  }
  for (const entry of readdirSync(path).sort()) {
    if (/^(?:tests?|__tests__|node_modules)$/.test(entry)) continue;
    collect(join(path, entry), out);
  }
}

const indentOf = (l: string): string => /^[ \t]*/.exec(l)![0];
const KEYWORDS = new Set(
  'const let var function return if else for while class new this await async import export from typeof instanceof true false null undefined break continue throw try catch default case switch void delete yield static extends super'.split(
    ' ',
  ),
);

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

/** The intended edit of a span (what a correct application must produce there). */
function makeEdit(kind: (typeof EDITS)[number], lines: string[], rand: () => number): string[] {
  const usesTabs = lines.some((l) => l.startsWith('\t'));
  const unit = usesTabs ? '\t' : '  ';
  switch (kind) {
    case 'rename': {
      const names = [...new Set(lines.join('\n').match(/[A-Za-z_$][\w$]{2,}/g) ?? [])].filter(
        (n) => !KEYWORDS.has(n),
      );
      if (names.length === 0) return makeEdit('insert-line', lines, rand);
      const name = names[Math.floor(rand() * names.length)]!;
      const re = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
      return lines.map((l) => l.replace(re, `${name}Next`));
    }
    case 'insert-line': {
      const k = Math.floor(rand() * lines.length);
      const out = [...lines];
      // Indented like the nearest non-blank line above, as one would write it.
      const above =
        lines
          .slice(0, k + 1)
          .reverse()
          .find((l) => l.trim()) ?? '';
      out.splice(k + 1, 0, `${indentOf(above)}patchbayTrace(${String(k)});`);
      return out;
    }
    case 'delete-line': {
      if (lines.length < 3) return makeEdit('rename', lines, rand);
      const out = [...lines];
      out.splice(1 + Math.floor(rand() * (lines.length - 2)), 1);
      return out;
    }
    case 'wrap': {
      const ind = indentOf(lines[0]!);
      return [
        `${ind}if (patchbayEnabled) {`,
        ...lines.map((l) => (l.trim() === '' ? l : unit + l)),
        `${ind}}`,
      ];
    }
  }
}

interface DriftFn {
  (lines: string[]): string[];
}

/** A drift of the model's copy; null when it does not apply to this span. */
function makeDrift(drift: Drift, span: string[], rand: () => number): DriftFn | null {
  const text = span.join('\n');
  switch (drift) {
    case 'none':
    case 'crlf-file':
      return (ls) => ls;
    case 'trailing-whitespace': {
      const pad = rand() < 0.5 ? ' ' : '  \t';
      // A stable rule per line content, so oldText and newText drift alike.
      return (ls) => ls.map((l) => (l.trim() && l.length % 2 === 0 ? l + pad : l.trimEnd()));
    }
    case 'indent-shift': {
      if (span.some((l) => l.startsWith('\t'))) return null;
      const choice = Math.floor(rand() * 5);
      const indented = span.filter((l) => l.trim());
      const min = Math.min(...indented.map((l) => indentOf(l).length));
      if (choice === 4)
        return min > 0 ? (ls) => ls.map((l) => l.slice(Math.min(min, indentOf(l).length))) : null;
      const k = [2, 4, -2, -4][choice]!;
      if (k < 0 && min < -k) return null;
      return (ls) =>
        ls.map((l) =>
          l.trim() === ''
            ? l
            : k > 0
              ? ' '.repeat(k) + l
              : l.slice(Math.min(-k, indentOf(l).length)),
        );
    }
    case 'tabs-spaces': {
      if (!span.some((l) => /^[ \t]/.test(l) && l.trim())) return null;
      if (span.some((l) => l.startsWith('\t'))) {
        const w = rand() < 0.5 ? 2 : 4;
        return (ls) =>
          ls.map(
            (l) => ' '.repeat(w * (indentOf(l).match(/\t/g)?.length ?? 0)) + l.replace(/^\t*/, ''),
          );
      }
      const widths = span.filter((l) => l.trim()).map((l) => indentOf(l).length);
      const u = widths.every((w) => w % 4 === 0) && widths.some((w) => w > 0) ? 4 : 2;
      return (ls) =>
        ls.map((l) => {
          const n = indentOf(l).length;
          return '\t'.repeat(Math.floor(n / u)) + ' '.repeat(n % u) + l.slice(n);
        });
    }
    case 'quotes':
      if (!/['"]/.test(text)) return null;
      return (ls) => ls.map((l) => l.replace(/['"]/g, (q) => (q === '"' ? "'" : '"')));
    case 'smart-quotes':
      if (!/['"]/.test(text)) return null;
      return (ls) =>
        ls.map((l) => {
          let n = 0;
          return l.replace(/['"]/g, (q) =>
            q === "'" ? (n++ % 2 ? '\u2019' : '\u2018') : n++ % 2 ? '\u201D' : '\u201C',
          );
        });
    case 'nbsp': {
      const candidates = span.flatMap((l, i) => (/\S \S/.test(l) ? [i] : []));
      if (candidates.length === 0) return null;
      const target = span[candidates[Math.floor(rand() * candidates.length)]!]!;
      return (ls) => ls.map((l) => (l === target ? l.replace(/(\S) (\S)/, '$1\u00A0$2') : l));
    }
    case 'mixed': {
      const shift = makeDrift('indent-shift', span, rand);
      const trailing = makeDrift('trailing-whitespace', span, rand)!;
      const quotes = makeDrift('quotes', span, rand);
      if (!shift || !quotes) return null;
      return (ls) => quotes(trailing(shift(ls)));
    }
  }
}

interface Case {
  file: string;
  drift: Drift;
  edit: (typeof EDITS)[number];
  content: string;
  /** 1-based line of the span, its offsets in `content`, and the intended replacement. */
  line: number;
  start: number;
  end: number;
  expectedText: string;
  oldText: string;
  newText: string;
}

function buildCorpus(files: string[], n: number, rand: () => number) {
  const cases: Case[] = [];
  let excludedNotUnique = 0;
  const cache = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const drift = DRIFTS[i % DRIFTS.length]!;
    const edit = EDITS[Math.floor(i / DRIFTS.length) % EDITS.length]!;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 5_000) throw new Error(`no span found for drift ${drift}`);
      const file = files[Math.floor(rand() * files.length)]!;
      if (!cache.has(file)) cache.set(file, readFileSync(file, 'utf8'));
      const source = cache.get(file)!;
      const lines = source.split('\n');
      const len = 2 + Math.floor(rand() * 7);
      if (lines.length < len + 2) continue;
      const a = Math.floor(rand() * (lines.length - len));
      const span = lines.slice(a, a + len);
      if (!span[0]!.trim() || !span[len - 1]!.trim()) continue;
      if (span.join('').replace(/\s/g, '').length < 20) continue;
      const spanText = span.join('\n');
      // An edit whose true place is not unique even exactly has no right answer: a model
      // would be (and is) asked for more context. Such spans are left out and counted.
      if (countOf(source, spanText) !== 1) {
        excludedNotUnique++;
        continue;
      }
      const driftFn = makeDrift(drift, span, rand);
      if (!driftFn) continue;
      const after = makeEdit(edit, span, rand);
      const eol = drift === 'crlf-file' ? '\r\n' : '\n';
      const content = lines.join(eol);
      const start = lines.slice(0, a).join(eol).length + (a > 0 ? eol.length : 0);
      const oldText = driftFn(span).join('\n');
      // A drift that leaves this span as it is (no quotes to swap...) is no test of it.
      if (drift !== 'none' && drift !== 'crlf-file' && oldText === spanText) continue;
      if (oldText === driftFn(after).join('\n')) continue;
      cases.push({
        file: relative(MODULES, file),
        drift,
        edit,
        content,
        line: a + 1,
        start,
        end: start + span.join(eol).length,
        expectedText: after.join(eol),
        oldText,
        newText: driftFn(after).join('\n'),
      });
      break;
    }
  }
  return { cases, excludedNotUnique };
}

// ---------------------------------------------------------------- classification

/** What the model's own newText drift leaves in the result: quotes, typography, padding. */
function loosely(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/[\u2018\u2019"]/g, "'")
    .replace(/[\u201C\u201D]/g, "'")
    .replace(/\u00A0/g, ' ')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

function classify(c: Case, r: EditResult): Outcome {
  if (!r.ok) return r.code === 'EDIT_AMBIGUOUS' ? 'refused-ambiguous' : 'refused-no-match';
  const prefix = c.content.slice(0, c.start);
  const suffix = c.content.slice(c.end);
  const out = r.content;
  if (
    !out.startsWith(prefix) ||
    !out.endsWith(suffix) ||
    out.length < prefix.length + suffix.length
  )
    return 'wrong-place';
  const middle = out.slice(prefix.length, out.length - suffix.length);
  if (r.line !== c.line) return 'wrong-place';
  if (middle === c.expectedText) return 'correct';
  // The indentation must be the file's exactly; only drift the model put into newText itself
  // (quote style, typographic quotes, trailing spaces) may remain.
  return loosely(middle) === loosely(c.expectedText) ? 'correct' : 'wrong-result';
}

// ---------------------------------------------------------------- run

await main('edits', async (startedAt) => {
  const files: string[] = [];
  for (const s of SOURCES) collect(join(MODULES, s), files);
  const packages = new Set(
    files.map((f) =>
      relative(MODULES, f)
        .split('/')
        .slice(0, f.includes('/@') ? 2 : 1)
        .join('/'),
    ),
  );
  const rand = prng(seed);
  const { cases, excludedNotUnique } = buildCorpus(files, count, rand);

  heading(
    `edits: ${String(cases.length)} edits from ${String(files.length)} files of ${String(packages.size)} packages (seed ${String(seed)})`,
  );
  const byDrift = new Map<Drift, Record<Outcome, number>>();
  const byRung: Record<string, number> = {};
  const examples: Record<string, unknown>[] = [];
  const t0 = performance.now();
  for (const c of cases) {
    const r = applyEdit(c.content, { oldText: c.oldText, newText: c.newText });
    const outcome = classify(c, r);
    const row = byDrift.get(c.drift) ?? {
      correct: 0,
      'refused-no-match': 0,
      'refused-ambiguous': 0,
      'wrong-result': 0,
      'wrong-place': 0,
    };
    row[outcome]++;
    byDrift.set(c.drift, row);
    if (r.ok) byRung[r.matchedBy] = (byRung[r.matchedBy] ?? 0) + 1;
    if (outcome !== 'correct' && examples.length < 20)
      examples.push({
        outcome,
        file: c.file,
        line: c.line,
        drift: c.drift,
        edit: c.edit,
        message: r.ok ? `applied by ${r.matchedBy} at line ${String(r.line)}` : r.message,
      });
  }
  const ms = performance.now() - t0;

  const total = { correct: 0, refused: 0, wrongResult: 0, wrongPlace: 0 };
  const drifts: Record<string, unknown> = {};
  for (const [drift, row] of byDrift) {
    const n = Object.values(row).reduce((a, b) => a + b, 0);
    total.correct += row.correct;
    total.refused += row['refused-no-match'] + row['refused-ambiguous'];
    total.wrongResult += row['wrong-result'];
    total.wrongPlace += row['wrong-place'];
    drifts[drift] = { n, ...row, correctPercent: round((100 * row.correct) / n, 1) };
    line(
      drift,
      `${String(row.correct)}/${String(n)} correct (${round((100 * row.correct) / n, 1).toFixed(1)} %), refused ${String(row['refused-no-match'])} no-match + ${String(row['refused-ambiguous'])} ambiguous, wrong text ${String(row['wrong-result'])}, wrong place ${String(row['wrong-place'])}`,
    );
  }
  const correctPercent = round((100 * total.correct) / cases.length, 2);
  line(
    'matched by',
    Object.entries(byRung)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', '),
  );
  line('excluded (span not unique exactly)', String(excludedNotUnique));
  line('time', `${round(ms, 0)} ms, ${round(ms / cases.length, 3)} ms per edit`);
  for (const e of examples.slice(0, 5)) line('  not correct', JSON.stringify(e).slice(0, 300));

  return writeResult(
    {
      benchmark: 'edits',
      description:
        'Edit application of src/llm/edits on edits generated from real node_modules sources with whitespace, indentation, quote and line-ending drift.',
      parameters: { count, seed, files: files.length, packages: [...packages] },
      figures: {
        edits: cases.length,
        correct: total.correct,
        correctPercent,
        refused: total.refused,
        wrongResult: total.wrongResult,
        wrongPlace: total.wrongPlace,
        excludedNotUnique,
        matchedBy: byRung,
        byDrift: drifts,
        msPerEdit: round(ms / cases.length, 3),
        notCorrectExamples: examples,
      },
      targets: [
        {
          name: 'corpus size',
          target: '>= 200 edits',
          actual: cases.length,
          pass: cases.length >= 200,
        },
        {
          name: 'applied correctly',
          target: '>= 98 %',
          actual: correctPercent,
          unit: '%',
          pass: correctPercent >= 98,
        },
        {
          name: 'applied at a wrong place',
          target: '0',
          actual: total.wrongPlace,
          pass: total.wrongPlace === 0,
        },
        {
          name: 'applied at the right place with wrong text',
          target: '0',
          actual: total.wrongResult,
          pass: total.wrongResult === 0,
        },
      ],
      notes: [
        'Spans whose text occurs more than once in their file are excluded (no right answer); refusals count against the correct rate.',
        'Correct means: bytes outside the span untouched, the reported line is the span line, and the replaced text equals the intended one exactly, except for drift the model itself put into newText (quote style, typographic quotes, trailing whitespace).',
      ],
    },
    startedAt,
  );
});
