import type { ResolvedConfig } from '../../../config/index.js';
import type { Run } from '../../../contracts/index.js';
import { assertSafeCallbackUrl, type Engine } from '../../../engine/index.js';
import type { Logger } from '../../../observability/index.js';
import type { CursorRunnerRequestRecord, RunRecord, Store } from '../../../store/index.js';
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

/** What a stored request keeps of its parameters (the `params` of its row). */
export interface RequestParams {
  prompt: string;
  repository: string | null;
  branchName: string | null;
  maxIterations: number | null;
  /** The cursor-runner conversation, and the Patchbay conversation its turns run in. */
  conversationId: string;
  patchbayId: string;
}

export interface Callback {
  url: string;
  secret: string | undefined;
}

export interface Outcome {
  status: number;
  body: SuccessBody | FailureBody;
}

/** The runs' `origin`: their reaction is this layer's (reaction.ts). */
export const ORIGIN = 'cursor-runner';

/** What a turn after the first says, as cursor-runner's iterate did. */
export const CONTINUE_PROMPT =
  'If an error or issue occurred above, please resume this solution by debugging or resolving previous issues as much as possible. Try new approaches.';

/** Output kept per stream in a response (the run's events keep all of it). */
const MAX_TEXT = 1024 * 1024;
/** How often a waiting request looks whether its reaction has ended it. */
const WAIT_POLL_MS = 100;

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

/** Whether a request goes on after the turn that just ended (iterate only). */
export function continues(request: CursorRunnerRequestRecord, turn: RunRecord): boolean {
  const max = (request.params as unknown as RequestParams).maxIterations;
  return (
    max !== null &&
    request.iterations < max &&
    turn.status === 'failed' &&
    !FINAL_ERRORS.has(turn.errorCode ?? '')
  );
}

export interface ExecutionDeps {
  config: ResolvedConfig;
  /** The engine (bound once made: the reaction that uses this is given to the engine first). */
  engine: () => Engine;
  store: Store;
  log: Logger;
  conversations: ConversationMap;
}

/**
 * Runs cursor-runner requests as runs of Patchbay conversations and answers as it did. A
 * request is a row (`cursor_runner_requests`) pointing at the run of its current turn; the
 * layer's reaction (reaction.ts) follows each turn's end wherever it ran: the next turn, or the
 * answer and the callback. The HTTP side only starts requests and waits for their answers.
 */
export function createExecution(deps: ExecutionDeps) {
  const { config, store, conversations } = deps;
  const repo = store.cursorRunner;

  /** stdout and stderr text of a run, from its events. */
  async function texts(runId: string): Promise<{ stdout: string; stderr: string }> {
    const out = { stdout: '', stderr: '' };
    let after = 0;
    for (;;) {
      const page = await deps.engine().listEvents(runId, after, 1000);
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

  /** A turn of a request: a run of its Patchbay conversation, marked as this layer's. */
  async function startTurn(p: RequestParams, prompt: string): Promise<Run> {
    const run = await deps
      .engine()
      .createRun({ prompt, conversationId: p.patchbayId }, { origin: ORIGIN });
    return run;
  }

  /** cursor-runner's answer for a request whose last turn is `last`. */
  async function answer(request: CursorRunnerRequestRecord, last: Run): Promise<Outcome> {
    const p = request.params as unknown as RequestParams;
    const max = p.maxIterations;
    const { stdout, stderr } = await texts(last.id);
    const output = last.resultText ?? stdout;
    const common = {
      requestId: request.requestId,
      repository: p.repository,
      duration: `${Date.now() - Date.parse(request.startedAt)}ms`,
      timestamp: timestamp(),
      runId: last.id,
      conversationId: p.conversationId,
      ...(max !== null ? { iterations: request.iterations, maxIterations: max } : {}),
    };
    const errorText = last.error ? `${last.error.code}: ${last.error.message}` : null;
    // A turn that ended with an exit code answers as cursor-runner did (success: true, the
    // code inside); one killed or never started (timeout, cancel, setup) is a failure.
    if (last.exitCode === null || (max !== null && last.status !== 'succeeded')) {
      const body: FailureBody = {
        success: false,
        ...common,
        error: errorText ?? (stderr || `the run ended ${last.status}`),
        exitCode: last.exitCode ?? 1,
        output,
        ...(last.error ? { code: last.error.code } : {}),
      };
      return { status: max !== null ? 422 : 500, body };
    }
    const body: SuccessBody = {
      success: true,
      ...common,
      ...(p.branchName ? { branchName: p.branchName } : {}),
      command: [config.cursorRunnerAgent, '--print', '--force', p.prompt],
      output,
      error: stderr || (last.status === 'succeeded' ? null : errorText),
      exitCode: last.exitCode,
    };
    return { status: 200, body };
  }

  return {
    answer,
    startTurn,
    /**
     * Checks a request and starts its first turn: refusals (no prompt, unknown repository,
     * budgets, agent missing) are thrown before anything runs. Returns the stored request.
     */
    async begin(
      params: ExecuteParams,
      options: { callback?: Callback; taskId?: number } = {},
    ): Promise<CursorRunnerRequestRecord> {
      if (!params.prompt) throw new CompatFailure(400, 'prompt is required', 'VALIDATION_FAILED');
      const startedAt = new Date().toISOString();
      const ws = await conversations.workspace(params.repository);
      const conversationId = await conversations.resolve(params.conversationId, params.queueType);
      const patchbayId = await conversations.patchbayConversation(conversationId, ws);
      const p: RequestParams = {
        prompt: params.prompt,
        repository: params.repository ?? null,
        branchName: params.branchName ?? null,
        maxIterations: params.maxIterations ?? null,
        conversationId,
        patchbayId,
      };
      const run = await startTurn(p, p.prompt);
      return repo.insertRequest({
        requestId: params.requestId,
        runId: run.id,
        params: p as unknown as Record<string, unknown>,
        iterations: 1,
        callbackUrl: options.callback?.url ?? null,
        callbackSecret: options.callback?.secret ?? null,
        taskId: options.taskId ?? null,
        startedAt,
      });
    },
    /** Waits until the request's reaction has answered it (after its last turn). */
    async wait(id: string): Promise<Outcome> {
      for (;;) {
        const request = await repo.getRequest(id);
        if (!request) throw new CompatFailure(500, `request ${id} is gone`);
        if (request.status === 'done' && request.outcome) {
          return request.outcome as unknown as Outcome;
        }
        await deps.engine().waitForRun(request.runId);
        // A reaction that gave up will never answer: say so rather than wait for ever.
        const reaction = (await deps.engine().listReactions(request.runId)).find(
          (r) => r.name === ORIGIN,
        );
        if (reaction?.status === 'failed') {
          const current = await repo.getRequest(id);
          if (current?.status === 'done' && current.outcome) {
            return current.outcome as unknown as Outcome;
          }
          return {
            status: 500,
            body: {
              success: false,
              requestId: request.requestId,
              error: `the request could not be finished: ${reaction.lastError ?? 'unknown error'}`,
              timestamp: timestamp(),
              runId: request.runId,
            },
          };
        }
        await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
      }
    },
    /** The callback URL, checked as a run's would be; throws cursor-runner's 400. */
    async checkCallback(raw: string): Promise<Callback> {
      const cb = splitCallback(raw, config.cursorRunnerWebhookSecret);
      await assertSafeCallbackUrl(cb.url, { allowPrivate: config.allowPrivateCallbackUrls });
      return cb;
    },
  };
}

export type Execution = ReturnType<typeof createExecution>;
