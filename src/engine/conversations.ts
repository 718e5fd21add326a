import {
  invalidBodyField,
  PatchbayError,
  type Conversation,
  type ConversationMessage,
  type ConversationWithMessages,
  type CreateConversationRequest,
  type ListConversationsQuery,
  type ParsedCreateRunRequest,
} from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { newConversationId, type RunPatch, type RunRecord, type Store } from '../store/index.js';
import { resolveTrustedWorkdir } from '../workspaces/index.js';
import { createKeyedLock } from './keyed-lock.js';

export interface ConversationsOptions {
  store: Store;
  log: Logger;
  workspaceRoots: string[];
  /** How many of the last messages a context-overflow summary keeps. */
  summaryMessages: number;
}

/** Longest excerpt of one message in a summary; the rest is elided in the middle. */
const SUMMARY_MESSAGE_CHARS = 4000;

function excerpt(text: string, max = SUMMARY_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n[… ${text.length - max} characters left out …]\n${text.slice(-half)}`;
}

/**
 * The deterministic summary that seeds a fresh session when a conversation no longer fits
 * the agent's context window: the first request, the last messages and the files changed so
 * far. Same input, same text (no clock, no randomness), so it can be tested and diffed.
 */
export function summarizeConversation(
  messages: ConversationMessage[],
  changedFiles: { path: string; added: number; removed: number; binary: boolean }[],
  lastN: number,
): string {
  const parts = [
    'This continues an earlier conversation in this same workspace that no longer fit the context window. What happened so far:',
  ];
  const first = messages.find((m) => m.role === 'user');
  if (first) parts.push(`## The first request\n${excerpt(first.content)}`);
  const recent = messages.filter((m) => m.role !== 'summary' && m !== first).slice(-lastN);
  if (recent.length > 0) {
    parts.push(
      `## The last ${recent.length} message(s)\n` +
        recent
          .map((m) => `[${m.role}${m.runStatus ? `, ${m.runStatus}` : ''}]\n${excerpt(m.content)}`)
          .join('\n\n'),
    );
  }
  if (changedFiles.length > 0) {
    parts.push(
      '## Files changed so far\n' +
        changedFiles
          .map((f) => `- ${f.path} ${f.binary ? '(binary)' : `(+${f.added} -${f.removed})`}`)
          .join('\n'),
    );
  }
  return parts.join('\n\n');
}

/** Conversations: one agent session over many runs, in one workspace, with its messages. */
export function createConversations(options: ConversationsOptions) {
  const { store, log } = options;
  /** New runs of one conversation are created one at a time (who makes the workspace). */
  const withConversationLock = createKeyedLock();

  async function get(id: string): Promise<Conversation> {
    const c = await store.conversations.get(id);
    if (!c) throw new PatchbayError('CONVERSATION_NOT_FOUND', `no conversation ${id}`, { id });
    return c;
  }

  /**
   * The run request a conversation's next run is made from: the conversation's agent, model
   * and workspace (its first run's, or where the conversation works) filled in.
   */
  async function plan(request: ParsedCreateRunRequest & { conversationId: string }) {
    const c = await get(request.conversationId);
    if (request.agent && request.agent !== c.agent) {
      throw new PatchbayError(
        'CONVERSATION_AGENT_MISMATCH',
        `conversation ${c.id} uses ${c.agent}, not ${request.agent}`,
        { agent: c.agent },
      );
    }
    for (const field of ['workdir', 'repo', 'ref', 'workspaceOf', 'resumeSessionId'] as const) {
      if (request[field] !== undefined) {
        throw invalidBodyField(field, `the conversation decides ${field}: leave it out`);
      }
    }
    const planned: ParsedCreateRunRequest = {
      ...request,
      agent: c.agent,
      model: request.model ?? c.model ?? undefined,
      ...(c.workspaceRunId
        ? { workspaceOf: c.workspaceRunId }
        : {
            repo: c.repoId ?? undefined,
            ref: c.ref ?? undefined,
            workdir: c.workdir ?? undefined,
          }),
    };
    return { conversation: c, planned };
  }

  return {
    get,
    plan,
    async create(request: CreateConversationRequest): Promise<Conversation> {
      if (request.repo && request.workdir) {
        throw invalidBodyField('workdir', 'give either repo or workdir, not both');
      }
      if (request.repo && !(await store.repos.get(request.repo))) {
        throw new PatchbayError('REPO_NOT_FOUND', `no repository ${request.repo}`);
      }
      const workdir = request.workdir
        ? await resolveTrustedWorkdir(request.workdir, options.workspaceRoots)
        : null;
      const at = new Date().toISOString();
      const conversation: Conversation = {
        id: newConversationId(),
        agent: request.agent,
        title: request.title ?? null,
        model: request.model ?? null,
        repoId: request.repo ?? null,
        ref: request.ref ?? null,
        workdir,
        workspaceRunId: null,
        sessionId: null,
        summary: null,
        messageCount: 0,
        createdAt: at,
        updatedAt: at,
      };
      await store.conversations.insert(conversation);
      return conversation;
    },
    async list(query: ListConversationsQuery) {
      const rows = await store.conversations.list({
        limit: query.limit + 1,
        before: query.cursor,
      });
      const page = rows.slice(0, query.limit);
      return {
        conversations: page,
        nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null,
      };
    },
    async getWithMessages(id: string): Promise<ConversationWithMessages> {
      const c = await get(id);
      return { ...c, messages: await store.conversations.listMessages(id) };
    },

    /**
     * Creates a run of a conversation: the request gets the conversation's agent, model and
     * workspace (its first run's, or where the conversation works), then `insert` stores it
     * and the user's prompt is added to the conversation. One at a time per conversation.
     */
    async createRun<T>(
      request: ParsedCreateRunRequest & { conversationId: string },
      insert: (request: ParsedCreateRunRequest) => Promise<T & { id: string }>,
    ): Promise<T> {
      return withConversationLock(request.conversationId, async () => {
        const { conversation: c, planned } = await plan(request);
        const run = await insert(planned);
        if (!c.workspaceRunId) await store.conversations.claimWorkspace(c.id, run.id);
        await store.conversations.appendMessage(c.id, {
          role: 'user',
          content: request.prompt ?? '',
          runId: run.id,
          runStatus: null,
        });
        return run;
      });
    },

    /**
     * Just before a conversation's run starts (its workspace lock held, so the run before it
     * has ended and recorded its session): resume that session, or, after a context-window
     * overflow, start a fresh one with the summary in front of the prompt.
     */
    async beforeStart(record: RunRecord): Promise<RunPatch> {
      const c = await store.conversations.get(record.conversationId!);
      if (!c) return {};
      if (c.summary) {
        return { resumeSessionId: null, prompt: `${c.summary}\n\n## Now\n${record.prompt ?? ''}` };
      }
      return { resumeSessionId: c.sessionId };
    },

    /** After a conversation's run ended: its answer, the session to resume, or a summary. */
    async afterEnd(record: RunRecord): Promise<void> {
      const id = record.conversationId!;
      const c = await store.conversations.get(id);
      if (!c) return;
      const content =
        record.resultText ??
        (record.errorCode
          ? `${record.errorCode}: ${record.errorMessage ?? ''}`.trim()
          : `(the run ${record.status} without a result)`);
      await store.conversations.appendMessage(id, {
        role: 'assistant',
        content,
        runId: record.id,
        runStatus: record.status,
      });
      if (record.errorCode === 'AGENT_CONTEXT_WINDOW_EXCEEDED') {
        const messages = await store.conversations.listMessages(id);
        const files = new Map<
          string,
          { path: string; added: number; removed: number; binary: boolean }
        >();
        for (const run of await store.runs.listByConversation(id)) {
          // Each run's changedFiles are relative to where it started; the last run's view of a
          // file is the freshest, but counts add up across runs.
          for (const f of run.changedFiles ?? []) {
            const seen = files.get(f.path);
            files.set(f.path, {
              path: f.path,
              added: (seen?.added ?? 0) + f.added,
              removed: (seen?.removed ?? 0) + f.removed,
              binary: f.binary || (seen?.binary ?? false),
            });
          }
        }
        const summary = summarizeConversation(
          messages,
          [...files.values()].sort((a, b) => a.path.localeCompare(b.path)),
          options.summaryMessages,
        );
        await store.conversations.update(id, { summary, sessionId: null });
        await store.conversations.appendMessage(id, {
          role: 'summary',
          content: summary,
          runId: record.id,
          runStatus: null,
        });
        log.info(
          { runId: record.id, conversationId: id },
          'conversation summarised after context overflow',
        );
      } else if (record.sessionId) {
        await store.conversations.update(id, { sessionId: record.sessionId, summary: null });
      }
    },
  };
}

export type Conversations = ReturnType<typeof createConversations>;
