import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  Conversation,
  ConversationIdParams,
  ConversationList,
  ConversationWithMessages,
  CreateConversationRequest,
  ListConversationsQuery,
  PostMessageRequest,
  Run,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';
import { replyWithRun, runRouteErrors } from './run-reply.js';

export function conversationRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { engine } = deps;
  return async (app) => {
    app.post(
      '/v1/conversations',
      {
        schema: {
          tags: ['conversations'],
          summary: 'Start a conversation: one agent session over many runs, in one workspace',
          body: CreateConversationRequest,
          response: { 201: Conversation, ...runRouteErrors },
        },
      },
      async (request, reply) => reply.code(201).send(await engine.createConversation(request.body)),
    );
    app.get(
      '/v1/conversations',
      {
        schema: {
          tags: ['conversations'],
          summary: 'List conversations, newest first',
          querystring: ListConversationsQuery,
          response: { 200: ConversationList, ...runRouteErrors },
        },
      },
      async (request) => engine.listConversations(request.query),
    );
    app.get(
      '/v1/conversations/:id',
      {
        schema: {
          tags: ['conversations'],
          summary: 'Get a conversation with its messages',
          params: ConversationIdParams,
          response: { 200: ConversationWithMessages, ...runRouteErrors },
        },
      },
      async (request) => engine.getConversation(request.params.id),
    );
    app.post(
      '/v1/conversations/:id/messages',
      {
        schema: {
          tags: ['conversations'],
          summary: 'Send a prompt: starts a run that resumes the conversation',
          description:
            "Starts a run of the conversation's agent in its workspace, resuming its session (or, after a context-window overflow, a fresh session seeded with a summary). Answers 202 with the run; with `wait: true`, 200 once it has ended.",
          params: ConversationIdParams,
          body: PostMessageRequest,
          response: { 200: Run, 202: Run, ...runRouteErrors },
        },
      },
      async (request, reply) => {
        deps.runCreateLimiter.hit(request.clientKey);
        const run = await engine.postMessage(request.params.id, request.body);
        return replyWithRun(engine, request, reply, run, request.body.wait);
      },
    );
  };
}
