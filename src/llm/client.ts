/**
 * The LLM client: picks the provider and model of a call, checks the run's cost cap, makes
 * the call with retries, prices it and records it in the ledger, whatever its outcome.
 */
import { isPatchbayError, type LlmProviderName } from '../contracts/index.js';
import { createSilentLogger, type Logger } from '../observability/index.js';
import type { LlmCallRecord } from '../store/index.js';
import { callWithRetries, emptyUsage, type CallProgress, type TryOutcome } from './call.js';
import { assertWithinCostCap, type RunSpendReader } from './cost-cap.js';
import { priceOf } from './pricing.js';
import { llmSecrets, providerAdapters, type LlmConfig } from './providers/registry.js';
import { resolveSelection, type SelectionLayers } from './selection.js';
import type { LlmClient, LlmRequest, LlmResult, LlmStreamPart } from './types.js';

/** Where calls are recorded: the store's `llmCalls` in the server. */
export interface LlmLedger extends RunSpendReader {
  insert(call: LlmCallRecord): Promise<void>;
}

export interface CreateLlmClientOptions {
  config: LlmConfig;
  /** Records every call; without it calls are not recorded and `maxCostUsd` cannot be checked. */
  ledger?: LlmLedger;
  log?: Logger;
  /** The repository's model choice for a request naming `repoId` (settings and file). */
  repoLayers?: (repoId: string) => Promise<Omit<SelectionLayers, 'request'>>;
  /** First retry backoff (tests shorten it). */
  retryBaseDelayMs?: number;
  now?: () => number;
  newId?: () => string;
}

const defaultId = () => `llm_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

/**
 * @example
 *   const llm = createLlmClient({ config, ledger: store.llmCalls, log });
 *   const answer = await llm.complete({
 *     purpose: 'summary',
 *     messages: [{ role: 'user', content: 'Summarise this diff: …' }],
 *   });
 */
export function createLlmClient(options: CreateLlmClientOptions): LlmClient {
  const { config, ledger } = options;
  const log = options.log ?? createSilentLogger();
  const now = options.now ?? Date.now;
  const newId = options.newId ?? defaultId;
  const secrets = llmSecrets(config);

  async function record(
    request: LlmRequest,
    provider: LlmProviderName,
    model: string,
    started: number,
    progress: CallProgress,
    outcome: string,
    costUsd: number | null,
  ): Promise<void> {
    if (!ledger) return;
    const usage = progress.usage ?? emptyUsage();
    try {
      await ledger.insert({
        id: newId(),
        runId: request.runId ?? null,
        repoId: request.repoId ?? null,
        purpose: request.purpose,
        provider,
        model,
        inputTokens: usage.input,
        outputTokens: usage.output,
        cacheReadTokens: usage.cacheRead,
        cacheWriteTokens: usage.cacheWrite,
        reasoningTokens: usage.reasoning,
        costUsd,
        latencyMs: now() - started,
        attempts: progress.attempts,
        outcome,
        rawUsage: usage.raw,
        createdAt: new Date(started).toISOString(),
      });
    } catch (err) {
      // The answer is worth more than its ledger row; the failure is visible in the log.
      log.error({ err, purpose: request.purpose, runId: request.runId }, 'llm call not recorded');
    }
  }

  async function* stream(request: LlmRequest): AsyncGenerator<LlmStreamPart, LlmResult> {
    const repoLayers =
      request.repoId && options.repoLayers ? await options.repoLayers(request.repoId) : {};
    const { provider, model, endpoint } = resolveSelection(config, {
      ...repoLayers,
      request: { provider: request.provider, model: request.model },
    });
    if (request.maxCostUsd !== undefined && request.runId && ledger) {
      await assertWithinCostCap(ledger, request.runId, request.maxCostUsd);
    }
    const adapter = providerAdapters[provider];
    const started = now();
    const progress: CallProgress = { attempts: 0, usage: undefined };
    let outcome: TryOutcome;
    try {
      outcome = yield* callWithRetries({
        adapter,
        endpoint,
        model,
        request,
        policy: {
          maxRetries: config.llmMaxRetries,
          maxDelayMs: config.llmMaxRetryDelayMs,
          baseDelayMs: options.retryBaseDelayMs ?? 500,
          timeoutMs: config.llmTimeoutMs,
        },
        context: { provider, model, secrets },
        log,
        progress,
      });
    } catch (err) {
      const code = isPatchbayError(err) ? err.code : 'aborted';
      const usage = progress.usage;
      const cost = usage ? await priceOf(adapter.priceTableId, model, usage) : null;
      await record(request, provider, model, started, progress, code, cost);
      log.warn(
        {
          provider,
          model,
          purpose: request.purpose,
          runId: request.runId,
          code,
          attempts: progress.attempts,
        },
        'llm call failed',
      );
      throw err;
    }
    const costUsd = await priceOf(adapter.priceTableId, model, outcome.usage);
    const latencyMs = now() - started;
    await record(request, provider, model, started, progress, 'succeeded', costUsd);
    const { raw: _raw, ...tokens } = outcome.usage;
    log.debug(
      {
        provider,
        model,
        purpose: request.purpose,
        runId: request.runId,
        tokens,
        costUsd,
        latencyMs,
      },
      'llm call',
    );
    const result: LlmResult = {
      provider,
      model,
      ...outcome,
      costUsd,
      latencyMs,
      attempts: progress.attempts,
    };
    yield { type: 'finish', result };
    return result;
  }

  return {
    stream,
    async complete(request) {
      const gen = stream(request);
      for (;;) {
        const next = await gen.next();
        if (next.done) return next.value;
      }
    },
  };
}
