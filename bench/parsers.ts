/**
 * Events/s through each agent's stream parser on a ~100 MB recorded stream (the golden
 * fixtures repeated), against a bare `JSON.parse` loop over the same lines. Pure CPU, in
 * process: `npx tsx bench/parsers.ts [--mb 100]`. Writes bench/results/parsers.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  createClaudeParser,
  createCodexParser,
  createCursorParser,
  createGeminiParser,
  type StreamParser,
} from '../src/agents/index.js';

const mbArg = process.argv.indexOf('--mb');
const targetBytes = (mbArg > 0 ? Number(process.argv[mbArg + 1]) : 100) * 1e6;

const agents: Record<string, { create: () => StreamParser; fixture: string }> = {
  claude: { create: createClaudeParser, fixture: 'claude/success-with-tool-calls.ndjson' },
  cursor: { create: createCursorParser, fixture: 'cursor/success-with-tool-calls.ndjson' },
  codex: { create: createCodexParser, fixture: 'codex/success-with-tool-calls.ndjson' },
  gemini: { create: createGeminiParser, fixture: 'gemini/success-with-tool-calls.ndjson' },
};

function stream(fixture: string): string[] {
  const lines = readFileSync(new URL(`../test/fixtures/agents/${fixture}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean);
  const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
  const out: string[] = [];
  for (let total = 0; total < targetBytes; total += bytes) out.push(...lines);
  return out;
}

function best(fn: () => number, runs = 3): { ms: number; value: number } {
  let ms = Infinity;
  let value = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, value };
}

const results: Record<string, unknown> = {};
for (const [name, { create, fixture }] of Object.entries(agents)) {
  const lines = stream(fixture);
  const mb = lines.reduce((n, l) => n + l.length + 1, 0) / 1e6;
  const bare = best(() => {
    let n = 0;
    for (const l of lines) if (JSON.parse(l)) n++;
    return n;
  });
  const parsed = best(() => {
    const parser = create();
    let n = 0;
    for (const l of lines) n += parser.line(l).length;
    return n + parser.end().length;
  });
  const row = {
    mb: Math.round(mb),
    lines: lines.length,
    events: parsed.value,
    parserEventsPerSecond: Math.round(parsed.value / (parsed.ms / 1000)),
    parserLinesPerSecond: Math.round(lines.length / (parsed.ms / 1000)),
    parserMBps: Math.round(mb / (parsed.ms / 1000)),
    bareJsonParseLinesPerSecond: Math.round(lines.length / (bare.ms / 1000)),
    bareJsonParseMBps: Math.round(mb / (bare.ms / 1000)),
    ratioVsBareJsonParse: Number((bare.ms / parsed.ms).toFixed(3)),
  };
  results[name] = row;
  process.stdout.write(
    `${name.padEnd(7)} ${row.mb} MB, ${row.lines} lines → ${row.events} events: ${row.parserEventsPerSecond} events/s, ${row.parserMBps} MB/s; bare JSON.parse ${row.bareJsonParseMBps} MB/s → ratio ${row.ratioVsBareJsonParse}\n`,
  );
}
writeFileSync(
  new URL('./results/parsers.json', import.meta.url),
  `${JSON.stringify({ benchmark: 'parsers', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, results }, null, 2)}\n`,
);
