import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../../config/index.js';
import type { ConversationMessage, CreateConversationRequest } from '../../../contracts/index.js';
import type { Engine } from '../../../engine/index.js';
import type { CursorRunnerConversationRecord, Store } from '../../../store/index.js';
import { conversationTopic, type FeedHub } from './feeds.js';
import { CompatFailure, type QueueType } from './wire.js';

/** A conversation as cursor-runner's clients read it. */
export interface CursorRunnerConversation {
  conversationId: string;
  messages: { role: 'user' | 'assistant'; content: string; timestamp: string }[];
  summarizedMessages?: { role: 'user' | 'assistant'; content: string; timestamp: string }[];
  createdAt: string;
  lastAccessedAt: string;
  /** Patchbay's additions. */
  queueType: string | null;
  patchbayConversationIds: string[];
}

/** Where a request's agent works: a registered repository, a directory, or neither. */
export interface Workspace {
  /** Stable key of the Patchbay conversation to use there. */
  key: string;
  create: Pick<CreateConversationRequest, 'repo' | 'workdir'>;
}

export interface ConversationDeps {
  config: ResolvedConfig;
  /** The engine, once made (see ExecutionDeps). */
  engine: () => Engine;
  store: Store;
  hub: FeedHub;
}

/** A `repository` that is one directory name, or a path of names, never `..` or absolute. */
function isPlainName(name: string): boolean {
  return !isAbsolute(name) && name.split(/[\\/]/).every((part) => part !== '' && part !== '..');
}

/**
 * cursor-runner's conversations over Patchbay's: each cursor-runner conversation runs its
 * prompts in one Patchbay conversation per workspace (agent session and workspace are fixed
 * there), and its messages are theirs, merged in time order.
 */
export function createConversationMap(deps: ConversationDeps) {
  const { config, engine, store, hub } = deps;
  const repo = store.cursorRunner;
  const root = config.cursorRunnerRepositoriesPath
    ? resolve(config.cursorRunnerRepositoriesPath)
    : undefined;

  async function view(record: CursorRunnerConversationRecord): Promise<CursorRunnerConversation> {
    const ids = await repo.listLinks(record.id);
    const all: ConversationMessage[] = [];
    for (const id of ids) all.push(...(await engine().getConversation(id)).messages);
    all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const messages = all.map((m) => ({
      role: m.role === 'user' ? ('user' as const) : ('assistant' as const),
      content: m.role === 'summary' ? `[Conversation Summary] ${m.content}` : m.content,
      timestamp: m.createdAt,
    }));
    const lastSummary = all.map((m) => m.role).lastIndexOf('summary');
    return {
      conversationId: record.id,
      messages,
      ...(lastSummary >= 0
        ? { summarizedMessages: [messages[lastSummary]!, ...messages.slice(lastSummary + 1)] }
        : {}),
      createdAt: record.createdAt,
      lastAccessedAt: record.lastAccessedAt,
      queueType: record.queueType,
      patchbayConversationIds: ids,
    };
  }

  async function insert(id: string, queueType: QueueType): Promise<void> {
    const at = new Date().toISOString();
    const record: CursorRunnerConversationRecord = {
      id,
      kind: 'conversation',
      queueType,
      agentId: null,
      title: null,
      status: null,
      metadata: null,
      messages: [],
      createdAt: at,
      lastAccessedAt: at,
    };
    await repo.insertConversation(record);
    hub.publish(conversationTopic(id), {
      type: 'conversation.created',
      conversationId: id,
      conversation: await view(record),
    });
  }

  return {
    view,
    async get(id: string): Promise<CursorRunnerConversation | undefined> {
      const record = await repo.getConversation(id);
      return record?.kind === 'conversation' ? view(record) : undefined;
    },
    async list(): Promise<CursorRunnerConversation[]> {
      const records = await repo.listConversations('conversation');
      return Promise.all(records.map(view));
    },
    /** A new conversation, now the queue's last one. */
    async create(queueType: QueueType): Promise<string> {
      const id = randomUUID();
      await insert(id, queueType);
      await repo.setLast(queueType, id);
      return id;
    },
    /**
     * The conversation a request continues: the one it names (made when unknown, as
     * cursor-runner does), else the queue's last one, else a new one.
     */
    async resolve(given: string | undefined, queueType: QueueType): Promise<string> {
      const id = given ?? (await repo.getLast(queueType));
      if (!id) return this.create(queueType);
      const record = await repo.getConversation(id);
      if (!record) await insert(id, queueType);
      else if (record.kind !== 'conversation') {
        throw new CompatFailure(400, `${id} is an agent conversation`);
      } else await repo.updateConversation(id, { lastAccessedAt: new Date().toISOString() });
      return id;
    },
    /** Where `repository` is: a registered repository (name or id) or a directory under the root. */
    async workspace(repository: string | undefined): Promise<Workspace> {
      if (!repository)
        return root
          ? { key: `dir:${root}`, create: { workdir: root } }
          : { key: 'none', create: {} };
      const registered = (await store.repos.list()).find(
        (r) => r.name === repository || r.id === repository,
      );
      if (registered) return { key: `repo:${registered.id}`, create: { repo: registered.id } };
      if (root && isPlainName(repository)) {
        const dir = join(root, repository);
        if (existsSync(dir) && statSync(dir).isDirectory()) {
          return { key: `dir:${dir}`, create: { workdir: dir } };
        }
      }
      throw new CompatFailure(
        404,
        `Repository not found locally: ${repository}. Please ensure the repository exists in the repositories directory.`,
        'REPO_NOT_FOUND',
      );
    },
    /** The Patchbay conversation of `conversationId` in `ws`, made on first use. */
    async patchbayConversation(conversationId: string, ws: Workspace): Promise<string> {
      const known = await repo.getLink(conversationId, ws.key);
      if (known) return known;
      const made = await engine().createConversation({
        agent: config.cursorRunnerAgent,
        title: `cursor-runner ${conversationId}`,
        ...ws.create,
      });
      return repo.link(conversationId, ws.key, made.id);
    },
    /** Tells the feed of the cursor-runner conversation a Patchbay conversation belongs to. */
    async changed(patchbayId: string, reason: 'message_added' | 'summarized'): Promise<void> {
      const id = await repo.conversationOf(patchbayId);
      if (!id || !hub.has(conversationTopic(id))) return;
      const record = await repo.getConversation(id);
      if (!record) return;
      hub.publish(conversationTopic(id), {
        type: 'conversation.updated',
        conversationId: id,
        conversation: await view(record),
        reason,
      });
    },
  };
}

export type ConversationMap = ReturnType<typeof createConversationMap>;
