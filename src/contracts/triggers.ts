import { z } from 'zod';
import { ScheduleRunRequest } from './schedules.js';

/**
 * The run a trigger starts: the body of `POST /v1/runs` without `wait`, whose `prompt`,
 * `model`, `ref` and `env` values may hold placeholders filled from the signed delivery:
 * `{{payload.issue.title}}`, `{{payload.items.0.name}}`, `{{webhook.id}}`, `{{trigger.id}}`.
 */
export const TriggerRunRequest = ScheduleRunRequest;
export type TriggerRunRequest = z.input<typeof TriggerRunRequest>;

const run = TriggerRunRequest.describe(
  'The run to start, as for POST /v1/runs (without `wait`); `prompt`, `model`, `ref` and `env` values may hold `{{payload.…}}` placeholders.',
);

/** Body of `POST /v1/triggers`. */
export const CreateTriggerRequest = z
  .object({
    name: z.string().min(1).max(200).optional(),
    run,
    enabled: z.boolean().optional().describe('Default true.'),
  })
  .strict();
export type CreateTriggerRequest = z.input<typeof CreateTriggerRequest>;
export type ParsedCreateTriggerRequest = z.output<typeof CreateTriggerRequest>;

/** Body of `PATCH /v1/triggers/:id`. */
export const UpdateTriggerRequest = z
  .object({
    name: z.string().min(1).max(200).nullable().optional(),
    run: run
      .optional()
      .describe(
        'Replaces the run template. Without `env` the stored variables stay; `[redacted]` keeps the stored value of that name.',
      ),
    enabled: z.boolean().optional(),
    rotateSecret: z
      .boolean()
      .optional()
      .describe(
        'Make a new signing secret (answered once, in `secret`); the old one stops working.',
      ),
  })
  .strict();
export type UpdateTriggerRequest = z.input<typeof UpdateTriggerRequest>;
export type ParsedUpdateTriggerRequest = z.output<typeof UpdateTriggerRequest>;

/** One accepted delivery of a trigger: signed, fresh, and not seen before. */
export const TriggerDelivery = z.object({
  webhookId: z.string(),
  receivedAt: z.string(),
  /** `started` made a run; `refused` did not (`error` says why; a resend may try again). */
  outcome: z.enum(['pending', 'started', 'refused']),
  runId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type TriggerDelivery = z.infer<typeof TriggerDelivery>;

export const Trigger = z.object({
  id: z.string(),
  name: z.string().nullable(),
  run: TriggerRunRequest.describe('The run template; `env` values always read `[redacted]`.'),
  enabled: z.boolean(),
  /** Where to POST signed deliveries (absolute when PATCHBAY_PUBLIC_URL is set). */
  fireUrl: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Trigger = z.infer<typeof Trigger>;

/** A trigger as created (or with a rotated secret): the only answer that shows the secret. */
export const TriggerWithSecret = Trigger.extend({
  /** `whsec_` + base64 key: give it to the sender; it is never shown again. */
  secret: z.string(),
});
export type TriggerWithSecret = z.infer<typeof TriggerWithSecret>;

export const TriggerWithDeliveries = Trigger.extend({
  /** The latest accepted deliveries, newest first. */
  deliveries: z.array(TriggerDelivery),
});
export type TriggerWithDeliveries = z.infer<typeof TriggerWithDeliveries>;

export const TriggerList = z.object({ triggers: z.array(Trigger) });
export type TriggerList = z.infer<typeof TriggerList>;

export const TriggerIdParams = z.object({ id: z.string().min(1).max(100) });

/** The answer to a fire: the run is queued. */
export const TriggerFireResult = z.object({
  triggerId: z.string(),
  webhookId: z.string(),
  runId: z.string(),
  status: z.string(),
});
export type TriggerFireResult = z.infer<typeof TriggerFireResult>;
