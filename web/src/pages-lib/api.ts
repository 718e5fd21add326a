/**
 * Endpoints the typed client does not cover yet, called through the dashboard's own fetch
 * (session cookie, CSRF header) and answered as the contracts' types. Errors come back as
 * the client's PatchbayError, so pages show them the same way.
 */
import { errorFromResponse } from '../../../src/client/index.js';
import type {
  Artifact,
  RepoFileList,
  Repo,
  RunKind,
  RunList,
  RunStatus,
  StoredProposal,
} from '../../../src/contracts/index.js';
import { apiFetch } from '../data/api.ts';

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

function qs(query: Readonly<Record<string, string | number | undefined>>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

export interface RunsQuery {
  kind?: RunKind;
  repoId?: string;
  parentId?: string;
  status?: readonly RunStatus[];
  limit?: number;
  cursor?: string;
}

export interface PullRequest {
  number: number;
  url: string;
  branch: string;
  draft: boolean;
}

/** One setting in effect (`GET /v1/settings`); a secret's value arrives masked. */
export interface EffectiveSetting {
  key: string;
  env: string;
  value: unknown;
  secret: boolean;
  defaultText: string;
  description: string;
}

/** Use of one budget day (`GET /v1/budgets/usage`), oldest first, the last is today. */
export interface BudgetDay {
  day: string;
  start: string;
  runs: number;
  agentMinutes: number;
  usd: number;
  estimatedUsd: number;
}
export interface BudgetUsageHistory {
  timezone: string;
  scope: string;
  days: BudgetDay[];
}

export const pagesApi = {
  listRuns: (q: RunsQuery = {}) =>
    call<RunList>(
      'GET',
      `/v1/runs${qs({ ...q, status: q.status?.length ? q.status.join(',') : undefined })}`,
    ),
  repoRuns: (id: string, q: { kind?: RunKind; limit?: number } = {}) =>
    call<RunList>('GET', `/v1/repos/${encodeURIComponent(id)}/runs${qs(q)}`),
  getRepo: (id: string) => call<Repo>('GET', `/v1/repos/${encodeURIComponent(id)}`),
  repoFiles: (id: string, path: string) =>
    call<RepoFileList>('GET', `/v1/repos/${encodeURIComponent(id)}/files${qs({ path })}`),
  getProposal: (id: string) =>
    call<StoredProposal>('GET', `/v1/proposals/${encodeURIComponent(id)}`),
  listArtifacts: (q: { runId?: string; optimizationId?: string }) =>
    call<{ artifacts: Artifact[] }>('GET', `/v1/artifacts${qs(q)}`),
  async artifactText(id: string): Promise<string> {
    const res = await apiFetch(`/v1/artifacts/${encodeURIComponent(id)}`);
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text);
    return text;
  },
  openPullRequest: (optimizationId: string, proposalId: string) =>
    call<PullRequest>(
      'POST',
      `/v1/optimizations/${encodeURIComponent(optimizationId)}/proposals/${encodeURIComponent(proposalId)}/pull-request`,
    ),
  settings: () => call<{ settings: EffectiveSetting[] }>('GET', '/v1/settings'),
  budgetUsage: (q: { days?: number; repo?: string } = {}) =>
    call<BudgetUsageHistory>('GET', `/v1/budgets/usage${qs(q)}`),
  get: <T>(path: string) => call<T>('GET', path),
};
