import { createHmac } from 'node:crypto';
import type { Run } from '../contracts/index.js';
import {
  tracingOff,
  type Logger,
  type Metrics,
  type TraceIds,
  type Tracing,
} from '../observability/index.js';
import type { CallbackRepository } from '../store/index.js';
import { AddressRefusedError } from '../workspaces/index.js';
import { postCallback } from './callback-target.js';
import { signingKey, standardWebhookHeaders } from './standard-webhooks.js';

export interface CallbackOptions {
  secret: string | undefined;
  maxAttempts: number;
  backoffMs: number;
  timeoutMs: number;
  userAgent: string;
  /** PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: deliver to loopback, private and reserved addresses. */
  allowPrivate: boolean;
}

/** `sha256=<hex>` of the body: what receivers compare (in constant time) to verify. */
export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

/**
 * POSTs the finished run to its callback URL (postCallback: only to addresses the outbound
 * address policy allows, no redirects). Retries network errors and retryable statuses with
 * exponential backoff and jitter; every attempt is recorded in the store.
 * Resolves with true when a 2xx was received.
 */
export async function deliverCallback(
  run: Run,
  url: string,
  deps: {
    options: CallbackOptions;
    repository: CallbackRepository;
    log: Logger;
    metrics: Metrics;
    signal?: AbortSignal;
    /** Resuming after a restart: the attempt number to continue from. */
    firstAttempt?: number;
    tracing?: Tracing;
    /** The span to hang the delivery under; default the active one. */
    parent?: TraceIds | null;
    /**
     * Another body and headers than the run's (a compatibility layer speaking its own wire
     * format); delivered, retried and recorded the same way, and not signed.
     */
    payload?: { body: string; headers: Record<string, string> };
  },
): Promise<boolean> {
  const tracing = deps.tracing ?? tracingOff;
  const attributes = {
    'patchbay.run.id': run.id,
    // Origin and path only: a callback URL may carry a token in its query.
    'url.full': url.split('?')[0]!,
  };
  // The receiver gets this span as its parent (`traceparent`): its work joins the run's trace.
  return tracing.inSpan(
    'callback.deliver',
    { kind: 'client', attributes, ...(deps.parent !== undefined ? { parent: deps.parent } : {}) },
    async (span) => {
      const headers: Record<string, string> = {};
      tracing.inject(headers, span);
      const delivered = await deliver(run, url, deps, headers);
      span.setAttribute('patchbay.callback.delivered', delivered);
      return delivered;
    },
  );
}

async function deliver(
  run: Run,
  url: string,
  deps: Parameters<typeof deliverCallback>[2],
  traceHeaders: Record<string, string>,
): Promise<boolean> {
  const { options, repository, log, metrics } = deps;
  const body = deps.payload?.body ?? JSON.stringify(run);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
    'x-patchbay-event': 'run.finished',
    'x-patchbay-run-id': run.id,
    ...traceHeaders,
    ...deps.payload?.headers,
  };
  // Standard Webhooks: the id stays the same on every attempt (receivers dedupe on it), the
  // timestamp and signature are those of the attempt. Runs ask for it only with a secret set.
  const key =
    run.callbackFormat === 'standard-webhooks' && options.secret
      ? signingKey(options.secret)
      : undefined;
  if (options.secret && !key && !deps.payload)
    headers['x-patchbay-signature'] = signPayload(options.secret, body);

  for (let attempt = deps.firstAttempt ?? 1; attempt <= options.maxAttempts; attempt++) {
    if (deps.signal?.aborted) return false;
    let status: number | null = null;
    let error: string | null = null;
    // A target the address policy refuses stays refused: no retry.
    let refused = false;
    try {
      status = await postCallback(url, {
        headers: {
          ...headers,
          ...(key ? standardWebhookHeaders(key, `${run.id}-finished`, body) : {}),
          'x-patchbay-attempt': String(attempt),
        },
        body,
        timeoutMs: options.timeoutMs,
        allowPrivate: options.allowPrivate,
      });
    } catch (err) {
      refused = err instanceof AddressRefusedError;
      error = refused
        ? `refused by the address policy: ${(err as Error).message}`
        : (err as Error).message;
    }
    const ok = status !== null && status >= 200 && status < 300;
    const last =
      refused ||
      attempt === options.maxAttempts ||
      (status !== null && !ok && !isRetryable(status));
    const outcome = ok ? 'delivered' : last ? 'failed' : 'retrying';
    metrics.callbackDeliveries.inc({ outcome });
    await repository
      .record({ runId: run.id, url, attempt, outcome, httpStatus: status, error })
      .catch((err: unknown) => log.error({ err }, 'could not record callback attempt'));
    if (ok) {
      log.info({ attempt, status }, 'callback delivered');
      return true;
    }
    if (last) {
      log.warn({ attempt, status, error }, 'callback delivery failed; giving up');
      return false;
    }
    const delay = options.backoffMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
    log.info({ attempt, status, error, retryInMs: Math.round(delay) }, 'callback failed; retrying');
    await backoff(delay, deps.signal);
  }
  return false;
}

/**
 * Waits `ms`, or until `signal` aborts. The signal is the scheduler's, shared by every delivery
 * for the server's life: the listener goes when the wait ends, or 200 retried deliveries leave
 * 600 listeners behind.
 */
function backoff(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
