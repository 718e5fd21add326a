import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../../../observability/index.js';
import type { CursorRunnerConversationRecord, Store } from '../../../store/index.js';
import type { ConversationMap } from './conversations.js';
import type { Execution } from './execution.js';
import { agentTopic, type FeedHub } from './feeds.js';
import { readQueueType } from './routes-cursor.js';
import { CompatFailure, newRequestId, noStore, timestamp } from './wire.js';

const MessageBody = z.object({
  message: z.string().trim().min(1),
  repository: z.string().max(200).nullish(),
  branchName: z.string().max(200).nullish(),
});

const AgentMessageBody = z
  .object({
    role: z.enum(['user', 'assistant', 'system', 'tool']),
    content: z.string().min(1),
    source: z.string().max(50).optional(),
  })
  .passthrough();

const AgentListQuery = z.object({
  limit: z.coerce.number().int().min(1).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  sortBy: z.enum(['createdAt', 'lastAccessedAt', 'messageCount']).default('lastAccessedAt'),
  sortOrder: z.enum(['asc', 'desc']).default('desc'),
});

/** An agent conversation as the voice agent's clients read it. */
export function agentView(r: CursorRunnerConversationRecord) {
  return {
    conversationId: r.id,
    messages: r.messages,
    createdAt: r.createdAt,
    lastAccessedAt: r.lastAccessedAt,
    ...(r.agentId ? { agentId: r.agentId } : {}),
    ...(r.metadata ? { metadata: r.metadata } : {}),
    title: r.title ?? undefined,
    status: r.status ?? 'active',
  };
}

/**
 * The conversation API (`/api/*` and `/conversations/api/*`: list, new, get, message) and the
 * voice agent's conversations (`/api/agent/*` and `/agent-conversations/api/*`).
 */
export function registerConversationRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    conversations: ConversationMap;
    execution: Execution;
    hub: FeedHub;
    log: Logger;
  },
): void {
  const { conversations, execution, hub } = deps;
  const repo = deps.store.cursorRunner;

  for (const prefix of ['/api', '/conversations/api']) {
    app.get(`${prefix}/list`, { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(noStore).send(await conversations.list()),
    );

    app.post(`${prefix}/new`, { schema: { hide: true } }, async (request, reply) => {
      const queueType = readQueueType(request.body, 'api');
      const conversationId = await conversations.create(queueType);
      return reply
        .headers(noStore)
        .send({ success: true, conversationId, message: 'New conversation created', queueType });
    });

    app.get(`${prefix}/:conversationId`, { schema: { hide: true } }, async (request, reply) => {
      const { conversationId } = request.params as { conversationId: string };
      const found = await conversations.get(conversationId);
      if (!found) throw new CompatFailure(404, 'Conversation not found', 'CONVERSATION_NOT_FOUND');
      return reply.headers(noStore).send(found);
    });

    app.post(
      `${prefix}/:conversationId/message`,
      { schema: { hide: true } },
      async (request, reply) => {
        const { conversationId } = request.params as { conversationId: string };
        const body = MessageBody.safeParse(request.body ?? {});
        if (!body.success) {
          throw new CompatFailure(400, 'Message is required and must be a non-empty string');
        }
        if (!(await conversations.get(conversationId))) {
          throw new CompatFailure(404, 'Conversation not found', 'CONVERSATION_NOT_FOUND');
        }
        const params = {
          requestId: newRequestId('ui'),
          prompt: body.data.message,
          repository: body.data.repository?.trim() || undefined,
          branchName: body.data.branchName ?? undefined,
          conversationId,
          queueType: 'api' as const,
        };
        const begun = await execution.begin(params);
        return reply.headers(noStore).send({
          success: true,
          message: 'Message accepted, processing asynchronously',
          requestId: params.requestId,
          conversationId,
          timestamp: timestamp(),
          runId: begun.runId,
        });
      },
    );
  }

  for (const prefix of ['/api/agent', '/agent-conversations/api']) {
    app.get(`${prefix}/list`, { schema: { hide: true } }, async (request, reply) => {
      const q = AgentListQuery.safeParse(request.query ?? {});
      if (!q.success) throw new CompatFailure(400, q.error.issues[0]!.message);
      const { limit, offset, sortBy, sortOrder } = q.data;
      const all = (await repo.listConversations('agent')).map(agentView);
      const key = (c: ReturnType<typeof agentView>): number =>
        sortBy === 'messageCount' ? c.messages.length : Date.parse(c[sortBy]);
      all.sort((a, b) => (sortOrder === 'asc' ? key(a) - key(b) : key(b) - key(a)));
      const from = offset ?? 0;
      const page = all.slice(from, from + (limit ?? all.length));
      return reply.headers(noStore).send({
        conversations: page,
        pagination: {
          total: all.length,
          limit: limit ?? all.length,
          offset: from,
          hasMore: offset !== undefined && limit !== undefined ? from + limit < all.length : false,
        },
      });
    });

    app.post(`${prefix}/new`, { schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as { agentId?: unknown; metadata?: unknown };
      const id = `agent-${Date.now()}-${randomBytes(6).toString('hex').slice(0, 9)}`;
      const at = new Date().toISOString();
      const record: CursorRunnerConversationRecord = {
        id,
        kind: 'agent',
        queueType: null,
        agentId: typeof body.agentId === 'string' ? body.agentId : null,
        title: `Agent Conversation ${id.substring(0, 8)}`,
        status: 'active',
        metadata:
          body.metadata && typeof body.metadata === 'object'
            ? (body.metadata as Record<string, unknown>)
            : null,
        messages: [],
        createdAt: at,
        lastAccessedAt: at,
      };
      await repo.insertConversation(record);
      hub.publish(agentTopic(id), {
        type: 'agent_conversation.created',
        conversationId: id,
        conversation: agentView(record),
      });
      return reply
        .headers(noStore)
        .send({ success: true, conversationId: id, message: 'New agent conversation created' });
    });

    app.get(`${prefix}/:id`, { schema: { hide: true } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const found = await repo.getConversation(id);
      if (found?.kind !== 'agent') {
        throw new CompatFailure(404, 'Agent conversation not found', 'CONVERSATION_NOT_FOUND');
      }
      return reply.headers(noStore).send(agentView(found));
    });

    app.post(`${prefix}/:id/message`, { schema: { hide: true } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = AgentMessageBody.safeParse(request.body ?? {});
      if (!body.success) throw new CompatFailure(400, 'Missing required fields: role, content');
      const found = await repo.getConversation(id);
      if (found?.kind !== 'agent') {
        throw new CompatFailure(404, 'Agent conversation not found', 'CONVERSATION_NOT_FOUND');
      }
      const at = new Date().toISOString();
      const message = {
        ...body.data,
        source: body.data.source ?? 'text',
        timestamp: typeof body.data.timestamp === 'string' ? body.data.timestamp : at,
        messageId:
          typeof body.data.messageId === 'string'
            ? body.data.messageId
            : `msg-${Date.now()}-${randomBytes(6).toString('hex').slice(0, 9)}`,
      };
      const messages = [...found.messages, message];
      await repo.updateConversation(id, { messages, lastAccessedAt: at });
      hub.publish(agentTopic(id), {
        type: 'agent_conversation.updated',
        conversationId: id,
        conversation: agentView({ ...found, messages, lastAccessedAt: at }),
        reason: 'message_added',
      });
      return reply
        .headers(noStore)
        .send({ success: true, conversationId: id, message: 'Message added to conversation' });
    });
  }
}
