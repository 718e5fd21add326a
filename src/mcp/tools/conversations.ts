import { z } from 'zod';
import { CreateConversationRequest, PostMessageRequest } from '../../contracts/index.js';
import { defineTool } from './tool.js';

export const conversationTools = [
  defineTool({
    name: 'start_conversation',
    title: 'Start a conversation',
    description:
      'Creates a conversation with a coding agent (claude, cursor, codex or gemini): one agent session over many runs, in one workspace (a worktree of `repo`, a `workdir`, or a fresh directory). Nothing runs until send_message.',
    input: CreateConversationRequest,
    mutates: true,
    call: async (request, { backend }) => ({
      ...(await backend.api.createConversation(request)),
    }),
  }),
  defineTool({
    name: 'send_message',
    title: 'Send a message to a conversation',
    description:
      "Continues a conversation: starts a run of its agent with `prompt`, resuming its session in its workspace. Answers at once with the run; its answer is the run's resultText (wait_for_run).",
    input: PostMessageRequest.omit({ wait: true }).extend({
      conversationId: z.string().min(1).max(100).describe('The conversation id (conv_…).'),
    }),
    mutates: true,
    call: async ({ conversationId, ...message }, { backend }) => ({
      ...(await backend.api.postMessage(conversationId, message)),
    }),
  }),
];
