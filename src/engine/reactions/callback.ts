import { toRun } from '../../store/index.js';
import { deliverCallback, type CallbackOptions } from '../callbacks.js';
import { runTraceParent } from '../run-tracing.js';
import type { EngineResources } from '../systems/resources.js';
import { ReactionGaveUp, type Reaction } from './types.js';

/**
 * The run's callback: POST the finished run to its `callbackUrl` (deliverCallback: signed,
 * address policy, retries with backoff, every attempt recorded as a delivery). A try that
 * follows a crash continues from the next delivery attempt, and one whose delivery was
 * already acknowledged does nothing.
 */
export function callbackReaction(
  res: Pick<EngineResources, 'config' | 'store' | 'metrics' | 'tracing' | 'version'>,
): Reaction {
  const { config, store } = res;
  const options: CallbackOptions = {
    secret: config.webhookSecret,
    maxAttempts: config.callbackMaxAttempts,
    backoffMs: config.callbackBackoffMs,
    timeoutMs: config.callbackTimeoutMs,
    userAgent: `patchbay/${res.version}`,
    allowPrivate: config.allowPrivateCallbackUrls,
  };
  return {
    name: 'callback',
    appliesTo: (record) => record.callbackUrl !== null,
    // Each try makes up to callbackMaxAttempts deliveries itself; more tries follow only a
    // crash, and continue the count of deliveries.
    maxAttempts: config.callbackMaxAttempts,
    backoffMs: config.callbackBackoffMs,
    async perform({ record, signal, log }) {
      const url = record.callbackUrl!;
      const last = (await store.callbacks.listForRun(record.id)).at(-1);
      if (last?.outcome === 'delivered') return;
      if (last?.outcome === 'failed' || (last?.attempt ?? 0) >= options.maxAttempts) {
        throw new ReactionGaveUp(
          `the callback was not delivered in ${options.maxAttempts} attempts`,
        );
      }
      const delivered = await deliverCallback(toRun(record), url, {
        options,
        repository: store.callbacks,
        log,
        metrics: res.metrics,
        signal,
        firstAttempt: (last?.attempt ?? 0) + 1,
        tracing: res.tracing,
        // The delivery joins the run's trace, whichever process makes it.
        parent: runTraceParent(record),
      });
      if (!delivered && !signal.aborted) {
        const after = (await store.callbacks.listForRun(record.id)).at(-1);
        throw new ReactionGaveUp(
          `the callback was not delivered: ${after?.error ?? `HTTP ${after?.httpStatus ?? '?'}`}`,
        );
      }
      if (!delivered) throw new Error('stopped before the callback was delivered');
    },
  };
}
