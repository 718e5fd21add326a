import {
  CreateRunRequest,
  isPatchbayError,
  PatchbayError,
  TriggerRunRequest,
  type ParsedCreateRunRequest,
  type ParsedCreateTriggerRequest,
  type ParsedUpdateTriggerRequest,
  type Run,
  type Trigger,
  type TriggerFireResult,
  type TriggerWithDeliveries,
  type TriggerWithSecret,
} from '../../contracts/index.js';
import type { Logger } from '../../observability/index.js';
import { newTriggerId, type Store, type TriggerRecord } from '../../store/index.js';
import { redactRun, withStoredEnv } from '../schedule-env.js';
import type { RunOrigin } from '../schedules.js';
import { newWebhookSecret, signingKey, verifyStandardWebhook } from '../standard-webhooks.js';
import { assertRunTemplate, refIsTemplated, renderRunTemplate } from './template.js';

export interface TriggersOptions {
  store: Store;
  log: Logger;
  /** The engine's createRun: a fired run is checked, budgeted and queued like any other. */
  createRun(request: ParsedCreateRunRequest, origin: RunOrigin): Promise<Run>;
  validateRun(request: ParsedCreateRunRequest): Promise<void>;
  /** Replay window of `webhook-timestamp` (PATCHBAY_TRIGGER_TOLERANCE_MS). */
  toleranceMs: number;
  /** PATCHBAY_PUBLIC_URL: makes `fireUrl` absolute. */
  publicUrl: string | undefined;
}

/**
 * A delivery still `pending` after this long was being handled by a process that died before
 * it made the run (making one takes milliseconds): a resend may claim it again.
 */
const STALE_PENDING_MS = 60_000;
/** The latest deliveries a trigger's GET shows. */
const RECENT_DELIVERIES = 20;

/**
 * Generic triggers: a run template, started by a POST signed with the Standard Webhooks
 * scheme under the trigger's own secret. Each webhook-id starts at most one run.
 */
export function createTriggers(options: TriggersOptions) {
  const { store } = options;
  const log = options.log.child({ component: 'triggers' });

  const fireUrl = (id: string): string =>
    `${options.publicUrl?.replace(/\/+$/, '') ?? ''}/v1/triggers/${id}/fire`;

  function present(t: TriggerRecord): Trigger {
    return {
      id: t.id,
      name: t.name,
      run: redactRun(t.run),
      enabled: t.enabled,
      fireUrl: fireUrl(t.id),
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
    };
  }

  async function getRecord(id: string): Promise<TriggerRecord> {
    const t = await store.triggers.get(id);
    if (!t) throw new PatchbayError('TRIGGER_NOT_FOUND', `no trigger ${id}`, { id });
    return t;
  }

  /**
   * A template is checked as far as it can be before a delivery fills it: placeholders in
   * place, then the run as createRun would check it (agent, repository, workdir, callback).
   * A templated `ref` is checked at fire time only.
   */
  async function validateTemplate(run: TriggerRecord['run']): Promise<void> {
    assertRunTemplate(run);
    const request = TriggerRunRequest.parse(run);
    if (refIsTemplated(run)) delete request.ref;
    await options.validateRun(request);
  }

  return {
    async create(request: ParsedCreateTriggerRequest): Promise<TriggerWithSecret> {
      await validateTemplate(request.run);
      const at = new Date().toISOString();
      const record: TriggerRecord = {
        id: newTriggerId(),
        name: request.name ?? null,
        secret: newWebhookSecret(),
        run: request.run,
        enabled: request.enabled ?? true,
        createdAt: at,
        updatedAt: at,
      };
      await store.triggers.insert(record);
      log.info({ triggerId: record.id }, 'trigger created');
      return { ...present(record), secret: record.secret };
    },
    async list(): Promise<Trigger[]> {
      return (await store.triggers.list()).map(present);
    },
    async get(id: string): Promise<TriggerWithDeliveries> {
      const t = await getRecord(id);
      return {
        ...present(t),
        deliveries: await store.triggers.listDeliveries(id, RECENT_DELIVERIES),
      };
    },
    async update(
      id: string,
      request: ParsedUpdateTriggerRequest,
    ): Promise<Trigger | TriggerWithSecret> {
      const before = await getRecord(id);
      const run = request.run ? withStoredEnv(request.run, before.run) : undefined;
      if (run) await validateTemplate(run);
      const secret = request.rotateSecret ? newWebhookSecret() : undefined;
      await store.triggers.update(id, {
        ...(request.name !== undefined ? { name: request.name } : {}),
        ...(run ? { run } : {}),
        ...(request.enabled !== undefined ? { enabled: request.enabled } : {}),
        ...(secret ? { secret } : {}),
      });
      const after = present(await getRecord(id));
      if (secret) log.info({ triggerId: id }, 'trigger secret rotated');
      return secret ? { ...after, secret } : after;
    },
    async remove(id: string): Promise<void> {
      if (!(await store.triggers.delete(id)))
        throw new PatchbayError('TRIGGER_NOT_FOUND', `no trigger ${id}`, { id });
      log.info({ triggerId: id }, 'trigger deleted');
    },

    /**
     * One delivery: verified (signature, then the replay window), claimed once by its
     * webhook-id, its payload mapped into the template, the run created. A delivery whose
     * run is refused releases its webhook-id, so the sender's resend may try again.
     *
     * @throws PatchbayError TRIGGER_NOT_FOUND, TRIGGER_SIGNATURE_*, TRIGGER_TIMESTAMP_EXPIRED,
     *   TRIGGER_WEBHOOK_REPLAYED, TRIGGER_DISABLED, VALIDATION_FAILED (body not JSON),
     *   TRIGGER_RUN_INVALID, and whatever createRun refuses with
     */
    async fire(
      id: string,
      headers: Record<string, string | string[] | undefined>,
      body: Buffer,
    ): Promise<TriggerFireResult> {
      const t = await getRecord(id);
      const webhook = verifyStandardWebhook(signingKey(t.secret), headers, body, {
        toleranceMs: options.toleranceMs,
      });
      if (!t.enabled) throw new PatchbayError('TRIGGER_DISABLED', undefined, { id });
      let payload: unknown = null;
      if (body.length > 0) {
        try {
          payload = JSON.parse(body.toString('utf8'));
        } catch {
          throw new PatchbayError('VALIDATION_FAILED', 'the delivery body is not JSON');
        }
      }
      const now = Date.now();
      const claimed = await store.triggers.claimDelivery(
        t.id,
        webhook.id,
        new Date(now).toISOString(),
        new Date(now - STALE_PENDING_MS).toISOString(),
      );
      if (!claimed) {
        throw new PatchbayError('TRIGGER_WEBHOOK_REPLAYED', undefined, { webhookId: webhook.id });
      }
      try {
        const rendered = renderRunTemplate(t.run, {
          payload,
          webhook,
          trigger: { id: t.id, name: t.name },
        });
        const parsed = CreateRunRequest.safeParse(rendered);
        if (!parsed.success) {
          throw new PatchbayError('TRIGGER_RUN_INVALID', undefined, {
            fields: parsed.error.issues.map((i) => ({
              location: 'run',
              path: i.path.join('.'),
              message: i.message,
            })),
          });
        }
        const run = await options.createRun(parsed.data, { triggerId: t.id });
        await store.triggers.settleDelivery(t.id, webhook.id, { runId: run.id });
        log.info({ triggerId: t.id, webhookId: webhook.id, runId: run.id }, 'trigger fired');
        return { triggerId: t.id, webhookId: webhook.id, runId: run.id, status: run.status };
      } catch (err) {
        const pe = isPatchbayError(err)
          ? err
          : new PatchbayError('INTERNAL_ERROR', (err as Error).message, undefined, { cause: err });
        await store.triggers
          .settleDelivery(t.id, webhook.id, { errorCode: pe.code, errorMessage: pe.message })
          .catch((e: unknown) => log.error({ err: e }, 'could not record a refused delivery'));
        log.warn({ triggerId: t.id, webhookId: webhook.id, code: pe.code }, 'trigger refused');
        throw pe;
      }
    },
  };
}

export type Triggers = ReturnType<typeof createTriggers>;
