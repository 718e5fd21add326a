import type { z } from 'zod';
import {
  type Budget,
  type ChangedFileList,
  type BudgetLimits,
  type BudgetList,
  type BudgetUsageHistory,
  type ErrorBody,
  type LogLines,
  type LogSearchResult,
  type SessionState,
  type SettingList,
  type AgentName,
  isErrorCode,
  PatchbayError,
  type Conversation,
  type ConversationList,
  type ConversationWithMessages,
  type CreateConversationRequest,
  type CreateRepoRequest,
  type PostMessageRequest,
  type CreateRunRequest,
  type OptimizeRequest,
  type ProposalList,
  type Repo,
  type RepoList,
  type HealthBody,
  type QueueHealth,
  type Run,
  type RunEvent,
  type RunEventList,
  type RunList,
  type RunStatus,
  type WorkerList,
  type CreateScheduleRequest,
  type Schedule,
  type ScheduleList,
  type ScheduleWithFires,
  type UpdateScheduleRequest,
  type CreateTriggerRequest,
  type Trigger,
  type TriggerList,
  type TriggerWithDeliveries,
  type TriggerWithSecret,
  type UpdateTriggerRequest,
} from '../contracts/index.js';

/**
 * The CSRF header (contracts' CSRF_HEADER), spelled here so that the dashboard, which bundles
 * this client, does not load the contracts' zod schemas for one string; the type keeps the two
 * the same.
 */
const CSRF_HEADER: SessionState['csrfHeader'] = 'x-patchbay-csrf';

export interface ClientOptions {
  /** e.g. http://127.0.0.1:7070 */
  baseUrl: string;
  token?: string | undefined;
  fetch?: typeof fetch;
}

export interface StreamOptions {
  after?: number;
  signal?: AbortSignal;
  /** Reconnect (with Last-Event-ID) when the connection drops before the run ends. */
  reconnect?: boolean;
}

/**
 * Typed client for the Patchbay HTTP API and its SSE event stream. Used by the CLI and the
 * dashboard; depends on `contracts` only.
 *
 * @example
 *   const pb = createClient({ baseUrl: 'http://127.0.0.1:7070' });
 *   const run = await pb.createRun({ agent: 'shell', command: ['echo', 'hi'] });
 *   for await (const event of pb.streamEvents(run.id)) console.log(event.type, event.data);
 */
export function createClient(options: ClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  });

  async function send(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    try {
      return await doFetch(`${base}${path}`, {
        method,
        headers: headers({
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          // In a browser logged in with a session cookie, requests that change something
          // must carry it (see docs/dashboard.md); bearer clients are unaffected.
          ...(method === 'GET' || method === 'HEAD' ? {} : { [CSRF_HEADER]: '1' }),
          ...extraHeaders,
        }),
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new PatchbayError(
        'SERVER_UNREACHABLE',
        `cannot reach ${base}: ${causeMessage(err)}`,
        { baseUrl: base },
        {
          cause: err,
        },
      );
    }
  }

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await send(method, path, body);
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text);
    return JSON.parse(text) as T;
  }

  async function* streamEvents(
    runId: string,
    streamOptions: StreamOptions = {},
  ): AsyncGenerator<RunEvent> {
    let after = streamOptions.after ?? 0;
    let attempts = 0;
    for (;;) {
      const res = await send(
        'GET',
        `/v1/runs/${encodeURIComponent(runId)}/events?after=${after}`,
        undefined,
        streamOptions.signal,
        {
          accept: 'text/event-stream',
        },
      ).catch((err: unknown) => {
        if (streamOptions.reconnect && err instanceof PatchbayError && attempts < 30) return null;
        throw err;
      });
      if (res && !res.ok) throw errorFromResponse(res.status, await res.text());
      let ended = false;
      if (res?.body) {
        attempts = 0;
        try {
          for await (const event of parseSse(res.body)) {
            after = event.seq;
            yield event;
            if (event.type === 'status' && isTerminal(event.data.status as RunStatus)) ended = true;
          }
        } catch (err) {
          if ((err as Error).name === 'AbortError' || !streamOptions.reconnect) throw err;
        }
      }
      if (ended || !streamOptions.reconnect || streamOptions.signal?.aborted) return;
      attempts++;
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * attempts)));
    }
  }

  return {
    baseUrl: base,
    health: () => request<HealthBody>('GET', '/health'),
    queue: () => request<QueueHealth>('GET', '/health/queue'),
    createRun: (body: CreateRunRequest) => request<Run>('POST', '/v1/runs', body),
    getRun: (id: string) => request<Run>('GET', `/v1/runs/${encodeURIComponent(id)}`),
    listRuns: (
      query: {
        status?: RunStatus[];
        limit?: number;
        cursor?: string;
        scheduleId?: string;
        /** Only the runs this trigger started. */
        triggerId?: string;
        /** Only the stage runs of this optimization. */
        parentId?: string;
        repoId?: string;
        conversationId?: string;
        agent?: AgentName;
        /** ISO instants: created at or after, and before. */
        createdAfter?: string;
        createdBefore?: string;
      } = {},
    ) => {
      const params = new URLSearchParams();
      if (query.status?.length) params.set('status', query.status.join(','));
      for (const key of [
        'scheduleId',
        'triggerId',
        'parentId',
        'repoId',
        'conversationId',
        'agent',
        'createdAfter',
        'createdBefore',
      ] as const) {
        const value = query[key];
        if (value) params.set(key, value);
      }
      if (query.limit) params.set('limit', String(query.limit));
      if (query.cursor) params.set('cursor', query.cursor);
      const qs = params.toString();
      return request<RunList>('GET', `/v1/runs${qs ? `?${qs}` : ''}`);
    },
    listEvents: (id: string, after = 0, limit = 1000) =>
      request<RunEventList>(
        'GET',
        `/v1/runs/${encodeURIComponent(id)}/events?after=${after}&limit=${limit}`,
      ),
    /** Case-insensitive search over a run's whole log: matching line numbers and text. */
    searchRunLog: (id: string, q: string, limit?: number) =>
      request<LogSearchResult>(
        'GET',
        `/v1/runs/${encodeURIComponent(id)}/log/search?${new URLSearchParams({ q, ...(limit ? { limit: String(limit) } : {}) }).toString()}`,
      ),
    /** Lines `start` (1-based) to `start + count - 1` of a run's log, e.g. around a match. */
    getRunLogLines: (id: string, start: number, count = 200) =>
      request<LogLines>(
        'GET',
        `/v1/runs/${encodeURIComponent(id)}/log/lines?start=${start}&count=${count}`,
      ),
    /** A run's whole log as plain text (for copy and download). */
    async getRunLogText(id: string): Promise<string> {
      const res = await send('GET', `/v1/runs/${encodeURIComponent(id)}/log`);
      const text = await res.text();
      if (!res.ok) throw errorFromResponse(res.status, text);
      return text;
    },
    /** A repository run's unified diff against its base commit (RUN_DIFF_NOT_AVAILABLE otherwise). */
    async getRunDiff(id: string): Promise<string> {
      const res = await send('GET', `/v1/runs/${encodeURIComponent(id)}/diff`);
      const text = await res.text();
      if (!res.ok) throw errorFromResponse(res.status, text);
      return text;
    },
    /** Files a finished repository run changed, with added and removed line counts. */
    getChangedFiles: (id: string) =>
      request<ChangedFileList>('GET', `/v1/runs/${encodeURIComponent(id)}/files`),
    cancelRun: (id: string) => request<Run>('POST', `/v1/runs/${encodeURIComponent(id)}/cancel`),
    pauseRun: (id: string) => request<Run>('POST', `/v1/runs/${encodeURIComponent(id)}/pause`),
    resumeRun: (id: string) => request<Run>('POST', `/v1/runs/${encodeURIComponent(id)}/resume`),
    interruptRun: (id: string) =>
      request<Run>('POST', `/v1/runs/${encodeURIComponent(id)}/interrupt`),
    streamEvents,
    createRepo: (body: CreateRepoRequest) => request<Repo>('POST', '/v1/repos', body),
    listRepos: () => request<RepoList>('GET', '/v1/repos'),
    /** Starts an optimization of a repository: answers with its first stage run (its id is the optimization's). */
    optimize: (repoId: string, body: z.input<typeof OptimizeRequest> = {}) =>
      request<Run>('POST', `/v1/repos/${encodeURIComponent(repoId)}/optimize`, body),
    listProposals: (
      query: { repoId?: string; optimizationId?: string; limit?: number; cursor?: string } = {},
    ) => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined) params.set(key, String(value));
      }
      const qs = params.toString();
      return request<ProposalList>('GET', `/v1/proposals${qs ? `?${qs}` : ''}`);
    },
    /**
     * Opens (or finds) the pull request of a proposal on the repository's GitHub, with its
     * evidence in the body.
     */
    openProposalPullRequest: (optimizationId: string, proposalId: string) =>
      request<{ number: number; url: string; branch: string; draft: boolean }>(
        'POST',
        `/v1/optimizations/${encodeURIComponent(optimizationId)}/proposals/${encodeURIComponent(proposalId)}/pull-request`,
      ),
    listWorkers: () => request<WorkerList>('GET', '/v1/workers'),
    deleteRepo: (id: string) => request<Repo>('DELETE', `/v1/repos/${encodeURIComponent(id)}`),
    createConversation: (body: CreateConversationRequest) =>
      request<Conversation>('POST', '/v1/conversations', body),
    listConversations: () => request<ConversationList>('GET', '/v1/conversations'),
    getConversation: (id: string) =>
      request<ConversationWithMessages>('GET', `/v1/conversations/${encodeURIComponent(id)}`),
    postMessage: (id: string, body: PostMessageRequest) =>
      request<Run>('POST', `/v1/conversations/${encodeURIComponent(id)}/messages`, body),
    listBudgets: () => request<BudgetList>('GET', '/v1/budgets'),
    /** Use per budget day over the last `days` (default 30), of all runs or one repository's. */
    budgetUsage: (query: { days?: number; repo?: string } = {}) => {
      const params = new URLSearchParams();
      if (query.days) params.set('days', String(query.days));
      if (query.repo) params.set('repo', query.repo);
      const qs = params.toString();
      return request<BudgetUsageHistory>('GET', `/v1/budgets/usage${qs ? `?${qs}` : ''}`);
    },
    /** The server's effective configuration, secrets masked. */
    getSettings: () => request<SettingList>('GET', '/v1/settings'),
    /** Whether auth is on and this client is logged in (never 401). */
    session: () => request<SessionState>('GET', '/v1/auth/session'),
    /** Browser login: exchanges a token for a session cookie (set by the answer). */
    login: (token: string) => request<SessionState>('POST', '/v1/auth/login', { token }),
    logout: () => request<SessionState>('POST', '/v1/auth/logout'),
    /** Sets (replaces) the global budget, or a repository's (id or name) with `repo`. */
    setBudget: (limits: BudgetLimits, repo?: string) =>
      request<Budget>('PUT', budgetPath(repo), limits),
    deleteBudget: (repo?: string) => request<Budget>('DELETE', budgetPath(repo)),
    createSchedule: (body: CreateScheduleRequest) =>
      request<Schedule>('POST', '/v1/schedules', body),
    listSchedules: () => request<ScheduleList>('GET', '/v1/schedules'),
    getSchedule: (id: string) =>
      request<ScheduleWithFires>('GET', `/v1/schedules/${encodeURIComponent(id)}`),
    updateSchedule: (id: string, body: UpdateScheduleRequest) =>
      request<Schedule>('PATCH', `/v1/schedules/${encodeURIComponent(id)}`, body),
    async deleteSchedule(id: string): Promise<void> {
      const res = await send('DELETE', `/v1/schedules/${encodeURIComponent(id)}`);
      if (!res.ok) throw errorFromResponse(res.status, await res.text());
    },
    /** Answers the trigger's signing secret, the only time it is shown. */
    createTrigger: (body: CreateTriggerRequest) =>
      request<TriggerWithSecret>('POST', '/v1/triggers', body),
    listTriggers: () => request<TriggerList>('GET', '/v1/triggers'),
    getTrigger: (id: string) =>
      request<TriggerWithDeliveries>('GET', `/v1/triggers/${encodeURIComponent(id)}`),
    /** With `rotateSecret: true` the answer holds the new secret. */
    updateTrigger: (id: string, body: UpdateTriggerRequest) =>
      request<Trigger | TriggerWithSecret>('PATCH', `/v1/triggers/${encodeURIComponent(id)}`, body),
    async deleteTrigger(id: string): Promise<void> {
      const res = await send('DELETE', `/v1/triggers/${encodeURIComponent(id)}`);
      if (!res.ok) throw errorFromResponse(res.status, await res.text());
    },
  };
}

export type PatchbayClient = ReturnType<typeof createClient>;

function budgetPath(repo: string | undefined): string {
  return repo === undefined
    ? '/v1/budgets/global'
    : `/v1/budgets/repos/${encodeURIComponent(repo)}`;
}

const TERMINAL: readonly RunStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
];
function isTerminal(status: RunStatus): boolean {
  return TERMINAL.includes(status);
}

function causeMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** Rebuilds the server's PatchbayError from an error body. */
export function errorFromResponse(status: number, text: string): PatchbayError {
  try {
    const parsed = asErrorBody(JSON.parse(text));
    if (parsed) {
      const { code, message, details, requestId } = parsed.error;
      const detailObj = {
        ...(typeof details === 'object' && details ? details : {}),
        requestId,
        httpStatus: status,
      };
      return isErrorCode(code)
        ? new PatchbayError(code, message, detailObj)
        : new PatchbayError('INTERNAL_ERROR', `${code}: ${message}`, detailObj);
    }
  } catch {
    // not JSON: fall through
  }
  return new PatchbayError('INTERNAL_ERROR', `HTTP ${status}: ${text.slice(0, 200)}`, {
    httpStatus: status,
  });
}

/**
 * The error body's shape, checked by hand: the dashboard bundles this client, and a zod
 * schema here would ship zod's runtime to the browser for one check.
 */
function asErrorBody(value: unknown): ErrorBody | null {
  if (typeof value !== 'object' || value === null) return null;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message, requestId, details } = error as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string' || typeof requestId !== 'string') {
    return null;
  }
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}

/** Parses a text/event-stream body into run events (ignores comments and retry lines). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<RunEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl: number;
    // Scan by index: re-slicing the buffer per line would be quadratic on big chunks.
    while ((nl = buffer.indexOf('\n', start)) >= 0) {
      const end = nl > start && buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const line = buffer.slice(start, end);
      start = nl + 1;
      if (line === '') {
        if (data.length > 0) yield JSON.parse(data.join('\n')) as RunEvent;
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
    }
    buffer = buffer.slice(start);
  }
}

/** One server-sent message: its `event` name (`message` when unnamed), `data` and `id`. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/** Parses a text/event-stream body into its messages, named (comments and retry ignored). */
export async function* parseSseMessages(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let message: SseMessage = { event: 'message', data: '', id: undefined };
  let hasData = false;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        if (hasData) yield message;
        message = { event: 'message', data: '', id: undefined };
        hasData = false;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') message.event = value;
      else if (field === 'id') message.id = value;
      else if (field === 'data') {
        message.data = hasData ? `${message.data}\n${value}` : value;
        hasData = true;
      }
    }
  }
}
