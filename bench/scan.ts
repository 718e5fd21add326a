/**
 * Scanner throughput: lines of code per second through every rule of src/optimizer/scan on a
 * large real codebase already on disk (the JavaScript and TypeScript shipped in node_modules:
 * typescript.js, zod's sources, fastify, bullmq, kysely), and `oxlint` with only its perf rules
 * on the same files in the same run, as a ratio. Pure CPU, in process for the scanner, one
 * `oxlint` process per sample: `npx tsx bench/scan.ts [--runs 3] [--oxlint path]`.
 * Writes bench/results/scan.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { scanSource } from '../src/optimizer/scan/index.js';
import { loadTypeScript } from '../src/optimizer/typescript.js';
import { heading, line, main, option, ROOT, round, writeResult } from './lib/harness.js';

const runs = option('runs', 3);
const MODULES = join(ROOT, 'node_modules');

/** Package folders (under node_modules) whose sources make the corpus. */
const CORPUS = [
  'typescript/lib/typescript.js',
  'zod/src',
  'fastify/lib',
  'bullmq/dist/esm',
  'kysely/dist/esm',
];

function collect(path: string, out: string[]): void {
  const stat = statSync(path);
  if (stat.isFile()) {
    if (/\.(?:[mc]?[jt]s|[jt]sx)$/.test(path) && !/\.d\.[mc]?ts$/.test(path)) out.push(path);
    return;
  }
  for (const entry of readdirSync(path)) {
    if (/^(?:tests?|__tests__)$/.test(entry) || /\.(?:test|spec)\./.test(entry)) continue;
    collect(join(path, entry), out);
  }
}

/** The oxlint binary: --oxlint / BENCH_OXLINT, else the project's node_modules. */
function oxlintBinary(): string | null {
  const given = option('oxlint', '');
  if (given) return existsSync(given) ? given : null;
  const local = join(MODULES, '.bin', 'oxlint');
  return existsSync(local) ? local : null;
}

function oxlintRun(bin: string, files: string[], threads: number | null) {
  const args = ['-A', 'all', '-D', 'perf', '--no-ignore', '-f', 'json'];
  if (threads !== null) args.push(`--threads=${threads}`);
  const t = performance.now();
  const r = spawnSync(bin, [...args, ...files], {
    cwd: MODULES,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const ms = performance.now() - t;
  if (r.error) throw r.error;
  // Exit 1 only means "diagnostics found"; anything else is a failure to lint.
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`oxlint exited ${String(r.status)}: ${r.stderr.slice(0, 500)}`);
  const parsed = JSON.parse(r.stdout) as { diagnostics?: unknown[] };
  return { ms, diagnostics: parsed.diagnostics?.length ?? 0 };
}

function version(bin: string): string {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' })
    .stdout.replace(/^Version:\s*/i, '')
    .trim();
}

await main('scan', async (startedAt) => {
  const files: string[] = [];
  for (const entry of CORPUS) {
    const path = join(MODULES, entry);
    if (existsSync(path)) collect(path, files);
  }
  if (files.length === 0) throw new Error('no corpus: node_modules is not installed');
  const texts = files.map((f) => ({ file: relative(MODULES, f), text: readFileSync(f, 'utf8') }));
  const lines = texts.reduce((n, t) => n + t.text.split('\n').length, 0);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t.text), 0);

  heading(`corpus: ${files.length} files, ${lines} lines, ${round(bytes / 1e6, 1)} MB`);
  const tLoad = performance.now();
  await loadTypeScript();
  const loadMs = performance.now() - tLoad;
  line('TypeScript compiler load', `${round(loadMs)} ms (once per process, not in the rate)`);

  let scanMs = Infinity;
  const byRule: Record<string, number> = {};
  let opportunities = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    let found = 0;
    for (const { file, text } of texts) {
      const ops = await scanSource(file, text);
      found += ops.length;
      if (i === 0) for (const o of ops) byRule[o.rule] = (byRule[o.rule] ?? 0) + 1;
    }
    scanMs = Math.min(scanMs, performance.now() - t);
    opportunities = found;
  }
  const scanRate = Math.round(lines / (scanMs / 1000));
  line(
    'scanner (best of runs)',
    `${round(scanMs)} ms → ${scanRate} lines/s, ${opportunities} opportunities`,
  );

  const bin = oxlintBinary();
  const figures: Record<string, unknown> = {
    corpus: CORPUS,
    files: files.length,
    lines,
    megabytes: round(bytes / 1e6, 2),
    typescriptLoadMs: round(loadMs),
    scanner: { bestMs: round(scanMs), linesPerSecond: scanRate, opportunities, byRule },
  };
  const notes = [
    'Scanner: all 23 rules in one AST walk per file, single thread, in process, best of --runs; the file text is read beforehand and the compiler load is reported apart.',
    'oxlint: `-A all -D perf --no-ignore -f json` on the same file list, one process per sample (its start-up included), best of --runs; --threads=1 is the same-core comparison, the default uses every core.',
    'The rule sets differ: oxlint perf has a handful of rules, the scanner 23; the ratio compares tools, not identical work.',
  ];
  if (bin) {
    let single = Infinity;
    let multi = Infinity;
    let diagnostics = 0;
    for (let i = 0; i < runs; i++) {
      const one = oxlintRun(bin, files, 1);
      single = Math.min(single, one.ms);
      diagnostics = one.diagnostics;
      multi = Math.min(multi, oxlintRun(bin, files, null).ms);
    }
    const singleRate = Math.round(lines / (single / 1000));
    const multiRate = Math.round(lines / (multi / 1000));
    line(
      `oxlint ${version(bin)} --threads=1`,
      `${round(single)} ms → ${singleRate} lines/s, ${diagnostics} diagnostics`,
    );
    line('oxlint (all cores)', `${round(multi)} ms → ${multiRate} lines/s`);
    line('scanner / oxlint (1 thread)', `${round(scanRate / singleRate, 3)}`);
    figures.oxlint = {
      version: version(bin),
      rules: '-A all -D perf',
      singleThread: { bestMs: round(single), linesPerSecond: singleRate, diagnostics },
      allCores: { bestMs: round(multi), linesPerSecond: multiRate },
    };
    figures.ratioScannerToOxlintSingleThread = round(scanRate / singleRate, 3);
    figures.ratioScannerToOxlintAllCores = round(scanRate / multiRate, 3);
  } else {
    line('oxlint', 'not installed: no ratio (npm install, or --oxlint <path>)');
    figures.oxlint = null;
    notes.push('oxlint was not found, so no ratio was measured.');
  }

  return writeResult(
    {
      benchmark: 'scan',
      description:
        'Optimizer scanner throughput in lines of code per second on node_modules sources, against oxlint perf rules on the same files.',
      parameters: { runs },
      figures,
      targets: [
        {
          name: 'scanner finishes the corpus and finds opportunities',
          target: '> 0 lines/s, > 0 opportunities',
          actual: `${scanRate} lines/s, ${opportunities} opportunities`,
          pass: scanRate > 0 && opportunities > 0,
        },
      ],
      notes,
    },
    startedAt,
  );
});
