/**
 * LLM discovery, in two steps: the model picks the files worth reading from the repository
 * map and the scanner's ranking of hot files, then reads each and names the places it would
 * change (`{line, endLine, rationale, risk, expectedEffect}`). Its findings join the scanner's,
 * minus those a template already covers. A call that fails or answers badly costs its file,
 * never the stage: the scanner's findings stand on their own.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  isPatchbayError,
  Risk,
  type DetectResult,
  type LlmReasoning,
  type Opportunity,
} from '../../contracts/index.js';
import { createWorkspace, repositoryMap } from '../../agents/index.js';
import type { LlmClient } from '../../llm/index.js';
import type { Logger } from '../../observability/index.js';
import { git } from '../../workspaces/index.js';
import { forbiddenReason } from '../patch/index.js';
import type { Trace } from '../trace.js';
import { parseAnswer, reasoningOf } from './answer.js';
import { numbered, systemPrompt } from './prompts.js';

/** Files the model may pick, and places per file it may name. */
export const MAX_LLM_FILES = 5;
const MAX_FINDINGS_PER_FILE = 5;
/** A file longer than this is not sent whole: the model is told to skip it. */
const MAX_FILE_CHARS = 60_000;
const SOURCE = /\.[cm]?[jt]sx?$/;

export interface LlmCallScope {
  client: LlmClient;
  runId?: string | null;
  repoId?: string | null;
  model?: string;
}

export interface DiscoverOptions {
  root: string;
  detect: DetectResult;
  /** The scanner's findings, best first: their files rank the hot paths. */
  found: readonly Opportunity[];
  /** Files the benchmarks start from (repo-relative). */
  benchEntries: readonly string[];
  llm: LlmCallScope;
  log: Logger;
  trace: Trace;
}

const FilePick = z.object({ files: z.array(z.string()).max(20), reason: z.string().optional() });
const Findings = z.object({
  opportunities: z
    .array(
      z.object({
        line: z.number().int().min(1),
        endLine: z.number().int().min(1).optional(),
        rationale: z.string().min(1),
        risk: Risk.catch('medium'),
        expectedEffect: z.string().default(''),
      }),
    )
    .max(20),
});

/** Files ranked by the scanner's findings (hot ones count most), then the benchmark entries. */
export function hotFiles(found: readonly Opportunity[], benchEntries: readonly string[]): string[] {
  const score = new Map<string, number>();
  for (const o of found) score.set(o.file, (score.get(o.file) ?? 0) + o.score * (o.hot ? 2 : 1));
  const ranked = [...score].sort((a, b) => b[1] - a[1]).map(([file]) => file);
  return [...new Set([...ranked, ...benchEntries])].slice(0, 15);
}

async function call(
  opts: DiscoverOptions,
  purpose: string,
  user: string,
): Promise<Awaited<ReturnType<LlmClient['complete']>>> {
  const { llm } = opts;
  return opts.trace.span('scan', purpose, () =>
    llm.client.complete({
      purpose,
      runId: llm.runId ?? null,
      repoId: llm.repoId ?? null,
      ...(llm.model ? { model: llm.model } : {}),
      messages: [
        { role: 'system', content: systemPrompt(opts.detect.framework.name) },
        { role: 'user', content: user },
      ],
    }),
  );
}

/** Step 1: which files to read. Only existing source files the patch rules allow are kept. */
async function pickFiles(opts: DiscoverOptions, tracked: Set<string>): Promise<string[]> {
  const ws = await createWorkspace(opts.root);
  const hot = hotFiles(opts.found, opts.benchEntries);
  const result = await call(
    opts,
    'optimizer.discover.files',
    [
      `Pick at most ${MAX_LLM_FILES} source files most likely to hold performance problems that the benchmarks would measure. Answer {"files": ["path", …], "reason": "…"} with paths exactly as in the map.`,
      `# Repository map\n\n${await repositoryMap(ws)}`,
      `# Hot files (the static scanner's ranking, then the benchmarks' entry points)\n\n${hot.join('\n') || '(none found)'}`,
    ].join('\n\n'),
  );
  const answer = parseAnswer(result, FilePick, 'the file pick');
  const picked = answer.files
    .map((f) => f.replace(/^\.\//, ''))
    .filter((f) => tracked.has(f) && SOURCE.test(f) && !forbiddenReason(f));
  opts.trace.mark('scan', 'model picked files', { files: picked.join(', ') });
  return [...new Set(picked)].slice(0, MAX_LLM_FILES);
}

/** Step 2: where in `file`, and why. */
async function analyse(opts: DiscoverOptions, file: string): Promise<Opportunity[]> {
  const text = await readFile(`${opts.root}/${file}`, 'utf8');
  if (text.length > MAX_FILE_CHARS) return [];
  const purpose = 'optimizer.discover.analyse';
  const result = await call(
    opts,
    purpose,
    [
      `Read ${file} and name at most ${MAX_FINDINGS_PER_FILE} places whose change would make it measurably faster. Answer {"opportunities": [{"line": n, "endLine": n, "rationale": "what is slow and what to do", "risk": "low"|"medium"|"high", "expectedEffect": "what gets faster, by roughly how much"}]} with the numbers shown at the left; an empty list when nothing is worth changing.`,
      `# ${file}\n\n${numbered(text)}`,
    ].join('\n\n'),
  );
  const answer = parseAnswer(result, Findings, `the analysis of ${file}`);
  const lines = text.split('\n').length;
  return answer.opportunities
    .filter((o) => o.line <= lines)
    .slice(0, MAX_FINDINGS_PER_FILE)
    .map((o): Opportunity => {
      const endLine = Math.min(Math.max(o.endLine ?? o.line, o.line), lines);
      const evidence: LlmReasoning = reasoningOf(purpose, result, o.rationale);
      return {
        rule: 'llm-suggested',
        file,
        line: o.line,
        column: 1,
        endLine,
        endColumn: 1,
        rationale: o.rationale,
        risk: o.risk,
        expectedEffect: o.expectedEffect,
        template: null,
        // After the scanner's hot findings, before its cold ones: a model's guess is worth
        // trying, a template's proven rewrite of a hot loop more so.
        score: 25,
        hot: true,
        source: 'llm',
        llmReasoning: [evidence],
      };
    });
}

/** Lines [a1, a2] and [b1, b2] overlap. */
const overlaps = (a: Opportunity, b: Opportunity): boolean =>
  a.file === b.file && a.line <= b.endLine && b.line <= a.endLine;

/**
 * The model's findings, without those a scanner finding with a template already covers (the
 * template's rewrite is deterministic and cheaper), nor duplicates among themselves.
 */
export function mergeFindings(found: readonly Opportunity[], llm: readonly Opportunity[]) {
  const covered = found.filter((o) => o.template !== null);
  const kept: Opportunity[] = [];
  for (const o of llm) {
    if (covered.some((c) => overlaps(c, o)) || kept.some((k) => overlaps(k, o))) continue;
    kept.push(o);
  }
  return [...found, ...kept].sort((a, b) => b.score - a.score);
}

/** Both steps. A failed step is logged and marked in the trace; what was found is kept. */
export async function discoverWithLlm(opts: DiscoverOptions): Promise<Opportunity[]> {
  const tracked = new Set(
    (await git(['ls-files'], opts.root)).split('\n').filter((f) => f.length > 0),
  );
  const failed = (step: string, err: unknown): void => {
    const code = isPatchbayError(err) ? err.code : 'INTERNAL_ERROR';
    opts.log.warn({ err, step }, 'llm discovery step failed');
    opts.trace.mark('scan', `${step} failed`, { code, message: (err as Error).message });
  };
  let files: string[];
  try {
    files = await pickFiles(opts, tracked);
  } catch (err) {
    // Without a key or budget nothing later can succeed either: the stage says why.
    if (isPatchbayError(err) && fatal.has(err.code)) throw err;
    failed('file pick', err);
    return [];
  }
  const found: Opportunity[] = [];
  for (const file of files) {
    try {
      found.push(...(await analyse(opts, file)));
    } catch (err) {
      if (isPatchbayError(err) && fatal.has(err.code)) throw err;
      failed(`analysis of ${file}`, err);
    }
  }
  return found;
}

/** Errors no later call would escape: the stage fails with them. */
export const fatal = new Set(['LLM_NOT_CONFIGURED', 'LLM_AUTH_FAILED', 'BUDGET_EXCEEDED']);
