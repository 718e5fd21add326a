/**
 * A client of cursor-runner's HTTP and WebSocket API, written from its published wire format
 * (the reference in shared/reference/compat.md and cursor-runner's server.ts), not from
 * Patchbay's code: what jarek-va, the conversations UI and the task tools send and read.
 */
import WebSocket from 'ws';

/** `SuccessResponseBody` of /cursor/execute and its callback. */
export interface ExecuteResult {
  success: boolean;
  requestId: string;
  repository?: string | null;
  branchName?: string;
  command?: string[];
  output?: string;
  error?: string | null;
  exitCode?: number;
  duration?: string;
  timestamp: string;
  iterations?: number;
  maxIterations?: number;
}

export interface AsyncAccepted {
  success: true;
  message: string;
  requestId: string;
  timestamp: string;
}

export interface ConversationMessage {
  role: 'user' | 'assistant';
  content: string;
  timestamp: string;
}

export interface Conversation {
  conversationId: string;
  messages: ConversationMessage[];
  createdAt: string;
  lastAccessedAt: string;
}

export interface Task {
  id: number;
  prompt: string;
  status: 0 | 1 | 2 | 3 | 4;
  status_label: string;
  createdat: string;
  updatedat: string;
  order: number;
  uuid: string | null;
}

export interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** How the secret travels: one of cursor-runner's two headers, `?secret=`, or not at all. */
export type SecretVia = 'x-webhook-secret' | 'x-cursor-runner-secret' | 'query' | 'none';

export class CursorRunnerClient {
  constructor(
    readonly baseUrl: string,
    private readonly secret?: string,
    private readonly via: SecretVia = 'x-webhook-secret',
  ) {}

  private target(path: string, via: SecretVia): string {
    if (via !== 'query' || !this.secret) return this.baseUrl + path;
    const sep = path.includes('?') ? '&' : '?';
    return `${this.baseUrl}${path}${sep}secret=${encodeURIComponent(this.secret)}`;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    via: SecretVia = this.via,
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.secret && via !== 'query' && via !== 'none') headers[via] = this.secret;
    const res = await fetch(this.target(path, via), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : null) as T,
      headers: res.headers,
    };
  }

  health() {
    return this.request<{ status: string; service: string }>('GET', '/health');
  }
  queue() {
    return this.request<{
      status: string;
      queue: { available: number; waiting: number; maxConcurrent: number };
      warning: string | null;
    }>('GET', '/health/queue');
  }
  execute(body: Record<string, unknown>, via?: SecretVia) {
    return this.request<ExecuteResult>('POST', '/cursor/execute', body, via);
  }
  executeAsync(body: Record<string, unknown>, via?: SecretVia) {
    return this.request<AsyncAccepted>('POST', '/cursor/execute/async', body, via);
  }
  iterate(body: Record<string, unknown>, via?: SecretVia) {
    return this.request<ExecuteResult>('POST', '/cursor/iterate', body, via);
  }
  iterateAsync(body: Record<string, unknown>, via?: SecretVia) {
    return this.request<AsyncAccepted>('POST', '/cursor/iterate/async', body, via);
  }
  newConversation(queueType?: string) {
    return this.request<{ success: boolean; conversationId: string; queueType: string }>(
      'POST',
      '/cursor/conversation/new',
      queueType ? { queueType } : {},
    );
  }
}

/** A WebSocket on one of the conversation feeds, collecting every message it gets. */
export async function openFeed(
  url: string,
): Promise<{ messages: Record<string, unknown>[]; close(): void }> {
  const socket = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) =>
    messages.push(JSON.parse(String(data)) as Record<string, unknown>),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { messages, close: () => socket.close() };
}
