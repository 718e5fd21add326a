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
  get: <T>(path: string) => call<T>('GET', path),
};
