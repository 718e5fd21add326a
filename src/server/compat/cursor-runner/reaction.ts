import type { ResolvedConfig } from '../../../config/index.js';
import {
  deliverCallback,
  ReactionGaveUp,
  type Engine,
  type Reaction,
} from '../../../engine/index.js';
import type { Logger, Metrics } from '../../../observability/index.js';
import { toRun, type Store } from '../../../store/index.js';
import { createConversationMap } from './conversations.js';
import {
  continues,
  createExecution,
  CONTINUE_PROMPT,
  ORIGIN,
  type Outcome,
  type RequestParams,
} from './execution.js';
import { createFeedHub } from './feeds.js';
import { TaskStatus } from './tasks.js';

/**
 * What follows the end of a cursor-runner turn, as a reaction of the engine: decided in the
 * run's end transaction and done once by whichever process takes it, retried, every try
 * recorded. It starts the next turn of an iterate, or stores the request's answer, marks its
 * task, and delivers its callback in cursor-runner's format (deliveries retried and recorded
 * under the run).
 */
export function cursorRunnerReaction(deps: {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  metrics: Metrics;
  engine: () => Engine;
}): Reaction {
  const { config, store } = deps;
  const repo = store.cursorRunner;
  // This process's view of the conversations (no live feeds here: those are the API's).
  const conversations = createConversationMap({
    config,
    engine: deps.engine,
    store,
    hub: createFeedHub(deps.log),
  });
  const execution = createExecution({ ...deps, conversations });

  async function deliver(
    outcome: Outcome,
    url: string,
    secret: string | null,
    signal: AbortSignal,
  ) {
    const runId = outcome.body.runId!;
    const last = (await store.callbacks.listForRun(runId)).at(-1);
    if (last?.outcome === 'delivered') return;
    if (last?.outcome === 'failed' || (last?.attempt ?? 0) >= config.callbackMaxAttempts) {
      throw new ReactionGaveUp(
        `the callback was not delivered in ${config.callbackMaxAttempts} attempts`,
      );
    }
    const headers: Record<string, string> = { 'user-agent': 'cursor-runner/1.0' };
    if (secret) {
      headers['x-webhook-secret'] = secret;
      headers['x-cursor-runner-secret'] = secret;
    }
    const delivered = await deliverCallback(await deps.engine().getRun(runId), url, {
      options: {
        secret: undefined,
        maxAttempts: config.callbackMaxAttempts,
        backoffMs: config.callbackBackoffMs,
        timeoutMs: config.callbackTimeoutMs,
        userAgent: 'cursor-runner/1.0',
        allowPrivate: config.allowPrivateCallbackUrls,
      },
      repository: store.callbacks,
      log: deps.log.child({ runId, requestId: outcome.body.requestId }),
      metrics: deps.metrics,
      signal,
      firstAttempt: (last?.attempt ?? 0) + 1,
      payload: { body: JSON.stringify(outcome.body), headers },
    });
    if (!delivered && !signal.aborted) throw new ReactionGaveUp('the callback was not delivered');
    if (!delivered) throw new Error('stopped before the callback was delivered');
  }

  return {
    name: 'cursor-runner',
    appliesTo: (record) => record.origin === ORIGIN,
    maxAttempts: config.callbackMaxAttempts,
    backoffMs: config.callbackBackoffMs,
    async perform({ record, signal, log }) {
      let request = await repo.requestOfRun(record.id);
      // The request row is written right after its first run is created: a run that ended
      // first finds it on the next try.
      if (!request) throw new Error(`no cursor-runner request for run ${record.id} yet`);
      if (request.status === 'running' && request.runId === record.id) {
        if (continues(request, record)) {
          const p = request.params as unknown as RequestParams;
          const next = await execution.startTurn(p, CONTINUE_PROMPT).catch((err: unknown) => {
            log.warn({ err }, 'cursor-runner: the next turn could not start; answering now');
            return null;
          });
          if (next && (await repo.advanceRequest(request.id, record.id, next.id))) return;
        }
        const outcome = await execution.answer(request, toRun(record));
        await repo.finishRequest(
          request.id,
          record.id,
          outcome as unknown as { status: number; body: Record<string, unknown> },
        );
        if (request.taskId !== null) {
          const done = outcome.body.success && outcome.body.exitCode === 0;
          await repo.updateTask(
            request.taskId,
            { status: done ? TaskStatus.complete : TaskStatus.backlogged },
            TaskStatus.inProgress,
          );
        }
        request = (await repo.getRequest(request.id))!;
      }
      if (request.status !== 'done' || request.runId !== record.id) return;
      if (request.callbackUrl && request.outcome) {
        await deliver(
          request.outcome as unknown as Outcome,
          request.callbackUrl,
          request.callbackSecret,
          signal,
        );
      }
    },
  };
}
