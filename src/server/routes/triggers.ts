import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateTriggerRequest,
  ErrorBody,
  Trigger,
  TriggerFireResult,
  TriggerIdParams,
  TriggerList,
  TriggerWithDeliveries,
  TriggerWithSecret,
  UpdateTriggerRequest,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** The fire route: authenticated by its signature, not by a bearer token (see app.ts). */
export const TRIGGER_FIRE_PATH = /^\/v1\/triggers\/[^/?#]+\/fire(?:[?#]|$)/;

export function triggerRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { triggers } = deps.engine;
  return async (app) => {
    app.post(
      '/v1/triggers',
      {
        schema: {
          tags: ['triggers'],
          summary: 'Create a trigger: a run template started by a signed POST',
          description:
            'Answers the signing secret (`whsec_…`) once. Deliveries to `fireUrl` are signed with the Standard Webhooks scheme; placeholders such as `{{payload.issue.title}}` in `prompt`, `model`, `ref` and `env` values are filled from the delivered JSON. See docs/webhooks.md.',
          body: CreateTriggerRequest,
          response: { 201: TriggerWithSecret, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await triggers.create(request.body)),
    );
    app.get(
      '/v1/triggers',
      {
        schema: {
          tags: ['triggers'],
          summary: 'List triggers, oldest first',
          response: { 200: TriggerList, ...errors },
        },
      },
      async () => ({ triggers: await triggers.list() }),
    );
    app.get(
      '/v1/triggers/:id',
      {
        schema: {
          tags: ['triggers'],
          summary: 'Get a trigger with its latest deliveries',
          params: TriggerIdParams,
          response: { 200: TriggerWithDeliveries, ...errors },
        },
      },
      async (request) => triggers.get(request.params.id),
    );
    app.patch(
      '/v1/triggers/:id',
      {
        schema: {
          tags: ['triggers'],
          summary: 'Change a trigger; `rotateSecret: true` answers a new secret once',
          params: TriggerIdParams,
          body: UpdateTriggerRequest,
          response: { 200: z.union([TriggerWithSecret, Trigger]), ...errors },
        },
      },
      async (request) => triggers.update(request.params.id, request.body),
    );
    app.delete(
      '/v1/triggers/:id',
      {
        schema: {
          tags: ['triggers'],
          summary: 'Delete a trigger and its delivery history (its runs stay)',
          params: TriggerIdParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        await triggers.remove(request.params.id);
        return reply.code(204).send(null);
      },
    );
    // Its own context: the body is verified as the bytes that were signed, so it is read raw
    // (any content type) and parsed only once the signature holds.
    await app.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      raw.withTypeProvider<ZodTypeProvider>().post(
        '/v1/triggers/:id/fire',
        {
          schema: {
            tags: ['triggers'],
            summary: 'Fire a trigger with a Standard Webhooks signed delivery (no bearer token)',
            description:
              'Headers `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>`, several separated by spaces). Refusals: TRIGGER_SIGNATURE_MISSING, TRIGGER_SIGNATURE_INVALID, TRIGGER_TIMESTAMP_EXPIRED, TRIGGER_WEBHOOK_REPLAYED (401); TRIGGER_NOT_FOUND (404); TRIGGER_RUN_INVALID (422).',
            params: TriggerIdParams,
            security: [],
            response: { 202: TriggerFireResult, 409: ErrorBody, 422: ErrorBody, ...errors },
          },
        },
        async (request, reply) => {
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          return reply
            .code(202)
            .send(await triggers.fire(request.params.id, request.headers, body));
        },
      );
    });
  };
}
