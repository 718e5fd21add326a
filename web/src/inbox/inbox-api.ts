/**
 * The inbox endpoints (docs/inbox.md) the typed client does not cover, through the dashboard's
 * fetch (session cookie, CSRF header), answered as the contracts' types. Errors come back as
 * the client's PatchbayError, so pages show them as every other page does.
 */
import { errorFromResponse } from '../../../src/client/index.js';
import type {
  Horizon,
  InboxConnector,
  InboxConnectorKind,
  InboxTask,
  Run,
  SyncReport,
  TaskDetail,
  TaskGraph,
  TaskListItem,
  TaskRunRequest,
  TaskState,
} from '../../../src/contracts/index.js';
import { apiFetch } from '../data/api.ts';

export type Lane = Horizon | 'past7d';
export const LANES: readonly Lane[] = ['today', 'week', 'month', 'past7d'];
export const LANE_LABEL: Record<Lane, string> = {
  today: 'Today',
  week: 'This week',
  month: 'This month',
  past7d: 'Done, past 7 days',
};
export type EdgeKind = TaskGraph['edges'][number]['kind'];

export interface GraphFilters {
  kinds: InboxConnectorKind[];
  states: TaskState[];
  lanes: Lane[];
  edgeKinds: EdgeKind[];
  labels: string[];
}

export interface TestStep {
  kind: InboxConnectorKind;
  step: 'auth' | 'scopes' | 'call' | 'cursor';
  ok: boolean;
  detail: string;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await apiFetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

const enc = encodeURIComponent;

export type TriageCall =
  | { action: 'accept' | 'decline' | 'complete' | 'undo' }
  | { action: 'snooze'; until: string }
  | { action: 'duplicate'; of: string }
  | { action: 'horizon'; horizon: Horizon | null };

export const inboxApi = {
  /** A lane's tasks, each with its source links (one request, not one per task). */
  listTasks: (horizon: Lane, limit = 100) =>
    call<{ tasks: TaskListItem[] }>(
      'GET',
      `/v1/tasks?horizon=${horizon}&limit=${limit}&include=sources`,
    ),
  getTask: (id: string) => call<TaskDetail>('GET', `/v1/tasks/${enc(id)}`),
  triage(id: string, change: TriageCall): Promise<InboxTask> {
    const { action, ...body } = change;
    const hasBody = action === 'snooze' || action === 'duplicate' || action === 'horizon';
    return call<InboxTask>('POST', `/v1/tasks/${enc(id)}/${action}`, hasBody ? body : undefined);
  },
  runTask: (id: string, body: TaskRunRequest) =>
    call<Run>('POST', `/v1/tasks/${enc(id)}/run`, body),
  graph(query: { window: 'week' | 'month'; kind?: string; state?: string }): Promise<TaskGraph> {
    const params = new URLSearchParams({ window: query.window });
    if (query.kind) params.set('kind', query.kind);
    if (query.state) params.set('state', query.state);
    return call<TaskGraph>('GET', `/v1/graph?${params.toString()}`);
  },
  graphFilters: () => call<GraphFilters>('GET', '/v1/graph/filters'),
  connectors: () => call<{ connectors: InboxConnector[] }>('GET', '/v1/connectors'),
  connect: (kind: InboxConnectorKind) =>
    call<{ authorizeUrl: string }>('POST', `/v1/connectors/${kind}/connect`),
  connectToken: (kind: InboxConnectorKind, token: string) =>
    call<null>('POST', `/v1/connectors/${kind}/connect`, { token }),
  test: (kind: InboxConnectorKind) =>
    call<{ kind: InboxConnectorKind; ok: boolean; steps: TestStep[] }>(
      'POST',
      `/v1/connectors/${kind}/test`,
    ),
  sync: (kind: InboxConnectorKind) =>
    call<SyncReport | null>('POST', `/v1/connectors/${kind}/sync`),
  disconnect: (kind: InboxConnectorKind) => call<null>('DELETE', `/v1/connectors/${kind}`),
};
