import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../../../observability/index.js';
import type { ConversationMap } from './conversations.js';
import type { Execution, ExecuteParams } from './execution.js';
import { CompatFailure, ExecuteBody, QueueType, newRequestId, timestamp } from './wire.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The secret a cursor-runner client sent: either header, or `?secret=`. */
export function providedSecret(request: FastifyRequest): string | undefined {
  const h = request.headers['x-webhook-secret'] ?? request.headers['x-cursor-runner-secret'];
  const header = Array.isArray(h) ? h[0] : h;
  const query = (request.query as Record<string, unknown> | undefined)?.secret;
  return header ?? (typeof query === 'string' ? query : undefined);
}

/** Whether `given` is the configured secret (constant time). */
export function secretMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** The request's parameters, read the way cursor-runner read them. */
function readBody(body: unknown, iterate: boolean): ExecuteParams & { callbackUrl?: string } {
  const parsed = ExecuteBody.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CompatFailure(
      400,
      `${issue.path.join('.') || 'body'}: ${issue.message}`,
      'VALIDATION_FAILED',
    );
  }
  const b = parsed.data;
  const requestId = b.id ?? newRequestId();
  return {
    requestId,
    prompt: b.prompt ?? undefined,
    repository: b.repository?.trim() || undefined,
    branchName: b.branchName ?? undefined,
    conversationId: b.conversationId ?? b.conversation_id ?? undefined,
    // Telegram's requests are recognised by their id, as cursor-runner did.
    queueType: b.queueType ?? (requestId.startsWith('telegram-') ? 'telegram' : 'default'),
    ...(iterate ? { maxIterations: b.maxIterations ?? 5 } : {}),
    ...(b.callbackUrl || b.callback_url ? { callbackUrl: (b.callbackUrl ?? b.callback_url)! } : {}),
  };
}

/**
 * `/cursor/execute`, `/cursor/iterate` (answer when done), their `/async` forms (200 at once,
 * the result to `callbackUrl`), `/cursor/conversation/new` and the `/telegram/webhook` stub.
 */
export function registerCursorRoutes(
  app: FastifyInstance,
  deps: {
    execution: Execution;
    conversations: ConversationMap;
    webhookSecret: string | undefined;
    log: Logger;
  },
): void {
  const { execution, conversations, log } = deps;

  // cursor-runner left every route but /execute/async open; Patchbay asks for the secret on
  // each /cursor route once one is configured.
  const requireSecret = async (request: FastifyRequest): Promise<void> => {
    if (!deps.webhookSecret) return;
    if (!secretMatches(providedSecret(request), deps.webhookSecret)) {
      throw new CompatFailure(
        401,
        'Unauthorized - invalid or missing webhook secret',
        'UNAUTHORIZED',
      );
    }
  };

  for (const iterate of [false, true]) {
    const path = iterate ? '/cursor/iterate' : '/cursor/execute';
    app.post(
      path,
      { preHandler: requireSecret, schema: { hide: true } },
      async (request, reply) => {
        const params = readBody(request.body, iterate);
        const begun = await execution.begin(params);
        const outcome = await execution.wait(begun.id);
        return reply.code(outcome.status).send(outcome.body);
      },
    );

    app.post(
      `${path}/async`,
      { preHandler: requireSecret, schema: { hide: true } },
      async (request, reply) => {
        const { callbackUrl, ...params } = readBody(request.body, iterate);
        const callback = callbackUrl ? await execution.checkCallback(callbackUrl) : undefined;
        // The answer goes to the callback from the reaction that ends the request.
        const begun = await execution.begin(params, callback ? { callback } : {});
        return reply.code(200).send({
          success: true,
          message: 'Request accepted, processing asynchronously',
          requestId: params.requestId,
          timestamp: timestamp(),
          runId: begun.runId,
          conversationId: (begun.params as { conversationId?: string }).conversationId,
        });
      },
    );
  }

  app.post(
    '/cursor/conversation/new',
    { preHandler: requireSecret, schema: { hide: true } },
    async (request) => {
      const queueType = readQueueType(request.body, 'default');
      const conversationId = await conversations.create(queueType);
      return { success: true, conversationId, message: 'New conversation created', queueType };
    },
  );

  // A stub in cursor-runner too: acknowledged (200, so Telegram does not resend) and logged.
  app.post('/telegram/webhook', { schema: { hide: true } }, async (request, reply) => {
    const update = (request.body ?? {}) as Record<string, unknown>;
    const updateType =
      ['message', 'edited_message', 'callback_query'].find((k) => update[k] !== undefined) ??
      'unknown';
    log.info({ updateType }, 'cursor-runner: telegram update received');
    return reply
      .code(200)
      .send({ success: true, received: true, updateType, timestamp: timestamp() });
  });
}

/** `{queueType}` of a body, or `fallback`; 400 for a value cursor-runner does not know. */
export function readQueueType(body: unknown, fallback: QueueType): QueueType {
  const raw = (body as Record<string, unknown> | undefined)?.queueType;
  if (raw === undefined || raw === null) return fallback;
  const parsed = QueueType.safeParse(raw);
  if (!parsed.success) throw new CompatFailure(400, 'queueType must be default, telegram or api');
  return parsed.data;
}
