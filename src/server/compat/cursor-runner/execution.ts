import type { ResolvedConfig } from '../../../config/index.js';
import type { Run } from '../../../contracts/index.js';
import { assertSafeCallbackUrl, deliverCallback, type Engine } from '../../../engine/index.js';
import type { Logger, Metrics } from '../../../observability/index.js';
import type { Store } from '../../../store/index.js';
import type { ConversationMap } from './conversations.js';
import {
  CompatFailure,
  timestamp,
  type FailureBody,
  type QueueType,
  type SuccessBody,
} from './wire.js';

/** What a cursor-runner request asks for, once read from its body. */
export interface ExecuteParams {
  requestId: string;
  prompt: string | undefined;
  repository: string | undefined;
  branchName: string | undefined;
  conversationId: string | undefined;
  queueType: QueueType;
  /** iterate: up to this many turns (absent: one turn, execute). */
  maxIterations?: number;
}

export interface Callback {
  url: string;
  secret: string | undefined;
}

export interface Outcome {
  status: number;
  body: SuccessBody | FailureBody;
}

/** What a turn after the first says, as cursor-runner's iterate did. */
export const CONTINUE_PROMPT =
  'If an error or issue occurred above, please resume this solution by debugging or resolving previous issues as much as possible. Try new approaches.';

/** Output kept per stream in a response (the run's events keep all of it). */
const MAX_TEXT = 1024 * 1024;

/** Run ends that another turn cannot mend. */
const FINAL_ERRORS = new Set([
  'AGENT_AUTH_FAILED',
  'AGENT_NOT_INSTALLED',
  'AGENT_SETUP_FAILED',
  'BUDGET_EXCEEDED',
]);

/**
 * The callback URL without `?secret=` and the secret to send in headers: the URL's own,
 * else the configured one (cursor-runner's getWebhookSecret()).
 */
export function splitCallback(raw: string, configured: string | undefined): Callback {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CompatFailure(400, `callbackUrl is not a valid URL`, 'CALLBACK_URL_INVALID');
  }
  const secret = url.searchParams.get('secret') ?? configured;
  url.searchParams.delete('secret');
  return { url: url.toString(), secret: secret || undefined };
}

export interface ExecutionDeps {
  config: ResolvedConfig;
  engine: Engine;
  store: Store;
  log: Logger;
  metrics: Metrics;
  conversations: ConversationMap;
  version: string;
}

/** Runs cursor-runner requests as runs of Patchbay conversations, and answers as it did. */
export function createExecution(deps: ExecutionDeps) {
  const { config, engine, log, conversations } = deps;

  /** stdout and stderr text of a run, from its events. */
  async function texts(runId: string): Promise<{ stdout: string; stderr: string }> {
    const out = { stdout: '', stderr: '' };
    let after = 0;
    for (;;) {
      const page = await engine.listEvents(runId, after, 1000);
      for (const e of page.events) {
        if (e.type !== 'output') continue;
        const stream = e.data.stream === 'stderr' ? 'stderr' : 'stdout';
        if (out[stream].length < MAX_TEXT) out[stream] += String(e.data.text ?? '');
      }
      if (page.events.length === 0 || page.done || page.lastSeq === after) break;
      after = page.lastSeq;
    }
    return out;
  }

  /** Checks the request and finds where it runs, before anything is started. */
  async function prepare(params: ExecuteParams) {
    if (!params.prompt) throw new CompatFailure(400, 'prompt is required', 'VALIDATION_FAILED');
    const ws = await conversations.workspace(params.repository);
    const conversationId = await conversations.resolve(params.conversationId, params.queueType);
    const patchbayId = await conversations.patchbayConversation(conversationId, ws);
    return { prompt: params.prompt, conversationId, patchbayId };
  }

  /** Starts a turn: the run is created (and refused: budgets, agent missing) now. */
  async function start(patchbayId: string, prompt: string): Promise<Run> {
    const run = await engine.postMessage(patchbayId, { prompt });
    void conversations.changed(patchbayId, 'message_added');
    return run;
  }

  async function turn(patchbayId: string, prompt: string, started?: Run): Promise<Run> {
    const run = started ?? (await start(patchbayId, prompt));
    const ended = await engine.waitForRun(run.id);
    void conversations.changed(
      patchbayId,
      ended.error?.code === 'AGENT_CONTEXT_WINDOW_EXCEEDED' ? 'summarized' : 'message_added',
    );
    return ended;
  }

  /**
   * Runs the request to its end: one turn (execute), or up to maxIterations turns (iterate),
   * each continuing the session of the one before, while a turn fails with something another
   * turn may mend. Answers with cursor-runner's body and status.
   */
  async function finish(
    params: ExecuteParams,
    prepared: Awaited<ReturnType<typeof prepare>>,
    first: Run,
    started: number,
  ): Promise<Outcome> {
    const max = params.maxIterations;
    let last = await turn(prepared.patchbayId, prepared.prompt, first);
    let iterations = 1;
    while (
      max !== undefined &&
      iterations < max &&
      last.status === 'failed' &&
      !FINAL_ERRORS.has(last.error?.code ?? '')
    ) {
      last = await turn(prepared.patchbayId, CONTINUE_PROMPT);
      iterations++;
    }
    const { stdout, stderr } = await texts(last.id);
    const output = last.resultText ?? stdout;
    const duration = `${Date.now() - started}ms`;
    const common = {
      requestId: params.requestId,
      repository: params.repository ?? null,
      duration,
      timestamp: timestamp(),
      runId: last.id,
      conversationId: prepared.conversationId,
      ...(max !== undefined ? { iterations, maxIterations: max } : {}),
    };
    const errorText = last.error ? `${last.error.code}: ${last.error.message}` : null;
    // A turn that ended with an exit code answers as cursor-runner did (success: true, the
    // code inside); one killed or never started (timeout, cancel, setup) is a failure.
    const iterateFailed = max !== undefined && last.status !== 'succeeded';
    if (last.exitCode === null || iterateFailed) {
      const body: FailureBody = {
        success: false,
        ...common,
        error: errorText ?? (stderr || `the run ended ${last.status}`),
        exitCode: last.exitCode ?? 1,
        output,
        ...(last.error ? { code: last.error.code } : {}),
      };
      return { status: max !== undefined ? 422 : 500, body } satisfies Outcome;
    }
    const body: SuccessBody = {
      success: true,
      ...common,
      ...(params.branchName ? { branchName: params.branchName } : {}),
      command: [config.cursorRunnerAgent, '--print', '--force', prepared.prompt],
      output,
      error: stderr || (last.status === 'succeeded' ? null : errorText),
      exitCode: last.exitCode,
    };
    return { status: 200, body } satisfies Outcome;
  }

  /** POSTs the outcome to the callback in cursor-runner's format; retried and recorded. */
  async function callback(cb: Callback, outcome: Outcome): Promise<void> {
    const runId = outcome.body.runId;
    if (!runId) return;
    const headers: Record<string, string> = { 'user-agent': 'cursor-runner/1.0' };
    if (cb.secret) {
      headers['x-webhook-secret'] = cb.secret;
      headers['x-cursor-runner-secret'] = cb.secret;
    }
    const run = await engine.getRun(runId);
    await deliverCallback(run, cb.url, {
      options: {
        secret: undefined,
        maxAttempts: config.callbackMaxAttempts,
        backoffMs: config.callbackBackoffMs,
        timeoutMs: config.callbackTimeoutMs,
        userAgent: 'cursor-runner/1.0',
        allowPrivate: config.allowPrivateCallbackUrls,
      },
      repository: deps.store.callbacks,
      log: log.child({ runId, requestId: outcome.body.requestId }),
      metrics: deps.metrics,
      payload: { body: JSON.stringify(outcome.body), headers },
    });
  }

  return {
    prepare,
    /** Starts the first turn of a prepared request. */
    start: (prepared: Awaited<ReturnType<typeof prepare>>) =>
      start(prepared.patchbayId, prepared.prompt),
    finish,
    callback,
    /** The callback URL, checked as a run's would be; throws cursor-runner's 400. */
    async checkCallback(raw: string): Promise<Callback> {
      const cb = splitCallback(raw, config.cursorRunnerWebhookSecret);
      await assertSafeCallbackUrl(cb.url, { allowPrivate: config.allowPrivateCallbackUrls });
      return cb;
    },
  };
}

export type Execution = ReturnType<typeof createExecution>;
