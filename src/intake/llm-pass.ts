import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isPatchbayError } from '../contracts/index.js';
import type { LlmClient } from '../llm/index.js';
import type { TaskAiSuggestion, TaskRecord } from '../store/index.js';
import type { InboxContext } from './context.js';

/**
 * The inbox's optional LLM pass (issue 19, PATCHBAY_INBOX_LLM): after a sync, each new or
 * changed open task (at most `maxPerSync`, most recently changed first) gets a model's short
 * summary and up to 3 labels, stored apart from the source's own fields (`setAi`). It labels
 * and summarises, never reorders: nothing here touches a score, a horizon or a state.
 *
 * It runs after the sync has ended and is not awaited by it, so a slow or failing provider
 * never fails or delays a sync. A failed call (down, 401, 429) ends the pass; an answer that
 * is not the JSON asked for is dropped with INBOX_LLM_BAD_OUTPUT. Either way the task keeps
 * its old suggestion (or none) and is asked again after the next sync. Every call goes
 * through the shared LLM client, so it is in the llm_calls ledger (purpose `inbox.label`)
 * and counts against the budgets like any other.
 */

export const LLM_PASS_PURPOSE = 'inbox.label';
const MAX_SUMMARY = 200;
const MAX_LABELS = 3;
/** Of a task's snippet, what the model reads. */
const MAX_SNIPPET = 2000;

const Answer = z
  .object({
    summary: z.string().trim().min(1).max(MAX_SUMMARY),
    labels: z.array(z.string().trim().toLowerCase().min(1).max(40)).max(MAX_LABELS),
  })
  .strict();

const SYSTEM = [
  'You summarise and label tasks in a developer work inbox.',
  'Answer with one JSON object and nothing else: {"summary": string, "labels": string[]}.',
  `summary: one sentence of at most ${MAX_SUMMARY} characters saying what needs doing.`,
  `labels: 0 to ${MAX_LABELS} short lowercase topic labels (1 to 3 words each).`,
].join('\n');

/** What the model reads of a task; its digest decides whether the task is asked again. */
function textOf(t: TaskRecord): string {
  return [
    `Source: ${t.kind}`,
    `Title: ${t.title}`,
    t.labels.length ? `Source labels: ${t.labels.join(', ')}` : '',
    `Text: ${t.snippet.slice(0, MAX_SNIPPET)}`,
  ]
    .filter(Boolean)
    .join('\n');
}

export const basisOf = (t: TaskRecord): string =>
  createHash('sha256').update(textOf(t)).digest('hex').slice(0, 16);

const OPEN = new Set(['todo', 'accepted', 'snoozed']);

/** The tasks the pass would ask about now: open, never asked about this text. */
export function pending(tasks: readonly TaskRecord[], limit: number): TaskRecord[] {
  return tasks
    .filter((t) => !t.archived && OPEN.has(t.state) && t.ai?.basis !== basisOf(t))
    .sort((a, b) => b.sourceUpdatedAt.localeCompare(a.sourceUpdatedAt) || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
}

/** The model's JSON (a code fence around it is tolerated), or why it is not. */
export function parseAnswer(
  text: string,
): { ok: true; value: z.infer<typeof Answer> } | { ok: false; reason: string } {
  const body = text
    .trim()
    .replace(/^```(?:json)?\s*/i, '')
    .replace(/\s*```$/, '');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: `not JSON: ${JSON.stringify(text.slice(0, 120))}` };
  }
  const parsed = Answer.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `${issue?.path.join('.') || 'answer'}: ${issue?.message}` };
  }
  return { ok: true, value: { ...parsed.data, labels: [...new Set(parsed.data.labels)] } };
}

export interface LlmPassOptions {
  llm: LlmClient;
  /** Tasks asked about after one sync, at most. */
  maxPerSync: number;
}

export interface LlmPassReport {
  asked: number;
  stored: number;
  dropped: number;
  /** The code of the call failure that ended the pass, if one did. */
  failed: string | null;
}

export function createLlmPass(ctx: InboxContext, options: LlmPassOptions) {
  const log = ctx.log.child({ component: 'inbox-llm' });
  let running: Promise<void> | undefined;
  let again = false;

  async function run(): Promise<LlmPassReport> {
    const report: LlmPassReport = { asked: 0, stored: 0, dropped: 0, failed: null };
    for (const task of pending(await ctx.store.tasks.list(), options.maxPerSync)) {
      const basis = basisOf(task);
      report.asked++;
      let answer;
      try {
        answer = await options.llm.complete({
          purpose: LLM_PASS_PURPOSE,
          maxOutputTokens: 400,
          messages: [
            { role: 'system', content: SYSTEM },
            { role: 'user', content: textOf(task) },
          ],
        });
      } catch (err) {
        report.failed = isPatchbayError(err) ? err.code : 'LLM_BAD_RESPONSE';
        log.warn(
          { code: report.failed, taskId: task.id, reason: (err as Error).message },
          'inbox LLM pass stopped: the call failed; the tasks left are asked after the next sync',
        );
        break;
      }
      const parsed = parseAnswer(answer.text);
      if (!parsed.ok) {
        report.dropped++;
        log.warn(
          { code: 'INBOX_LLM_BAD_OUTPUT', taskId: task.id, reason: parsed.reason },
          "inbox LLM pass dropped a model's answer",
        );
        continue;
      }
      const ai: TaskAiSuggestion = {
        ...parsed.value,
        basis,
        provider: answer.provider,
        model: answer.model,
        at: ctx.now().toISOString(),
      };
      await ctx.store.tasks.setAi(task.id, ai);
      report.stored++;
    }
    if (report.asked > 0) log.info({ ...report }, 'inbox LLM pass done');
    return report;
  }

  return {
    /** One pass now, awaited (tests, and `kick`'s loop). */
    run,
    /**
     * Starts a pass in the background unless one runs; one asked for while a pass runs
     * follows it. Never throws, never blocks the caller.
     */
    kick(): void {
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          await run().catch((err: unknown) => log.warn({ err }, 'inbox LLM pass failed'));
        } while (again);
      })().finally(() => (running = undefined));
    },
    /** Resolves when no pass runs (a server stopping waits for it). */
    idle: (): Promise<void> => running ?? Promise.resolve(),
  };
}

export type LlmPass = ReturnType<typeof createLlmPass>;
