import { z } from 'zod';
import { CreateRunRequest, RunStatus } from './runs.js';

/** Agents that keep sessions: a conversation is one of their sessions over many runs. */
export const ConversationAgent = z.enum(['claude', 'cursor', 'codex', 'gemini', 'llm']);
export type ConversationAgent = z.infer<typeof ConversationAgent>;

/** Body of `POST /v1/conversations`. Where the conversation works is fixed at creation. */
export const CreateConversationRequest = z
  .object({
    agent: ConversationAgent.describe('The agent every run of the conversation uses.'),
    title: z.string().min(1).max(200).optional(),
    model: z.string().min(1).max(200).optional().describe('Default model of its runs.'),
    repo: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Work on this repository: the first run makes a worktree that all later runs share.',
      ),
    ref: z.string().min(1).max(200).optional().describe('Where that worktree starts.'),
    workdir: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Or work in this directory (inside a trusted root). Default: a fresh directory.'),
  })
  .strict();
export type CreateConversationRequest = z.infer<typeof CreateConversationRequest>;

/**
 * Body of `POST /v1/conversations/:id/messages`: a prompt, and the per-run options that make
 * sense inside a conversation (the workspace, agent and session are the conversation's).
 */
export const PostMessageRequest = CreateRunRequest.pick({
  prompt: true,
  model: true,
  args: true,
  env: true,
  timeoutMs: true,
  idleTimeoutMs: true,
  maxOutputBytes: true,
  outputPolicy: true,
  autoCommit: true,
  network: true,
  callbackUrl: true,
  callbackFormat: true,
  deliver: true,
  wait: true,
})
  .required({ prompt: true })
  .strict();
export type PostMessageRequest = z.infer<typeof PostMessageRequest>;

export const ConversationMessage = z.object({
  seq: z.number().int(),
  /** `user` prompts, `assistant` results (or the error), `summary` when the context overflowed. */
  role: z.enum(['user', 'assistant', 'summary']),
  content: z.string(),
  runId: z.string().nullable(),
  runStatus: RunStatus.nullable(),
  createdAt: z.string(),
});
export type ConversationMessage = z.infer<typeof ConversationMessage>;

export const Conversation = z.object({
  id: z.string(),
  agent: ConversationAgent,
  title: z.string().nullable(),
  model: z.string().nullable(),
  repoId: z.string().nullable(),
  ref: z.string().nullable(),
  workdir: z.string().nullable(),
  /** The first run; later runs continue in its workspace. */
  workspaceRunId: z.string().nullable(),
  /** The agent session the next run resumes (null: the next run starts a fresh one). */
  sessionId: z.string().nullable(),
  /** Pending summary that seeds the next session after a context-window overflow. */
  summary: z.string().nullable(),
  messageCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationWithMessages = Conversation.extend({
  messages: z.array(ConversationMessage),
});
export type ConversationWithMessages = z.infer<typeof ConversationWithMessages>;

export const ConversationList = z.object({
  conversations: z.array(Conversation),
  nextCursor: z.string().nullable(),
});
export type ConversationList = z.infer<typeof ConversationList>;

export const ListConversationsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
  })
  .strict();
export type ListConversationsQuery = z.infer<typeof ListConversationsQuery>;

export const ConversationIdParams = z.object({ id: z.string().min(1).max(100) });
