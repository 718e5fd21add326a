/**
 * GitHub: the issues and pull requests assigned to, created by or mentioning the user
 * (`GET /issues?filter=…&since=…`), and the open pull requests waiting for the user's review
 * (`GET /search/issues?q=is:pr is:open review-requested:@me`). Every feed is a conditional
 * request (`If-None-Match` with the last ETag): a 304 costs nothing against the rate limit, so
 * polling often is cheap. `since` is the start of the sync window rounded to the day, so the URL
 * (and its ETag) stays the same all day; when a feed did change, the items whose `updated_at`
 * moved are emitted and the known ones missing from every feed (deleted, transferred, access
 * lost, no longer involving the user) become `removedRefs`.
 * Sign-in: an OAuth app with PKCE (S256, supported by GitHub since July 2025), or a token
 * (`githubTokenCredentials`, e.g. a fine-grained token with read-only Issues and Pull requests).
 */
import { createHash } from 'node:crypto';
import {
  buildUrl,
  createProviderClient,
  decodeCursor,
  encodeCursor,
  mentionsIn,
  missingScope,
  rateLimited,
  retryAtFrom,
  runSteps,
  truncate,
  type ErrorClassifier,
  type ProviderClient,
} from './http.js';
import { buildAuthorizeUrl, exchangeCode, refreshCredentials } from './oauth.js';
import type {
  Connector,
  ConnectorAppConfig,
  ConnectorCredentials,
  ConnectorEndpoints,
  ExplicitPriority,
  Fetch,
  ItemPerson,
  SourceItem,
} from './types.js';

export const GITHUB_ENDPOINTS: ConnectorEndpoints = {
  apiBaseUrl: 'https://api.github.com',
  authorizeUrl: 'https://github.com/login/oauth/authorize',
  tokenUrl: 'https://github.com/login/oauth/access_token',
};
/** GitHub OAuth apps have no read-only repository scope: `repo` is the narrowest that sees private issues. */
export const GITHUB_SCOPES = ['repo', 'read:user'] as const;

export interface GithubOptions {
  readonly backfillDays?: number;
  /** Pages read per feed, at most (100 items a page). */
  readonly maxPages?: number;
}

type Feed = 'assigned' | 'created' | 'mentioned' | 'review';
const FEEDS: readonly Feed[] = ['assigned', 'created', 'mentioned', 'review'];

interface GithubCursor {
  v: 1;
  login: string;
  /** Node id → a digest of the item last emitted (what changed is emitted again). */
  known: Record<string, string>;
  /** The ETag of each feed's first page, and the URL it was for. */
  etags: Partial<Record<Feed, { url: string; etag: string; refs: string[] }>>;
}

interface GithubUser {
  login: string;
  name?: string | null;
  email?: string | null;
}

export interface GithubIssue {
  node_id: string;
  number: number;
  title: string;
  body?: string | null;
  html_url: string;
  state: 'open' | 'closed';
  user?: GithubUser | null;
  assignees?: GithubUser[] | null;
  labels?: ({ name?: string } | string)[];
  milestone?: { due_on?: string | null } | null;
  pull_request?: { html_url?: string; merged_at?: string | null };
  repository_url?: string;
  repository?: { full_name?: string };
  created_at: string;
  updated_at: string;
  closed_at?: string | null;
}

const githubClassifier: ErrorClassifier = (status, _body, headers) => {
  if (
    (status === 403 || status === 429) &&
    (headers.get('x-ratelimit-remaining') === '0' || headers.has('retry-after'))
  ) {
    return rateLimited('github', retryAtFrom(headers));
  }
  const accepted = (headers.get('x-accepted-oauth-scopes') ?? '').split(/[,\s]+/).filter(Boolean);
  const granted = headers.get('x-oauth-scopes');
  if ((status === 403 || status === 404) && granted !== null && accepted.length > 0) {
    const have = granted.split(/[,\s]+/).filter(Boolean);
    if (!accepted.some((s) => have.includes(s))) return missingScope('github', accepted[0]!);
  }
  return null;
};

/** A token given directly (classic or fine-grained): checked and described by `test`/`sync`. */
export function githubTokenCredentials(token: string, login?: string): ConnectorCredentials {
  return { accessToken: token, ...(login ? { extra: { login } } : {}) };
}

export function createGithubConnector(
  app: ConnectorAppConfig,
  fetch: Fetch,
  options: GithubOptions = {},
): Connector {
  const backfillDays = options.backfillDays ?? 30;
  const maxPages = options.maxPages ?? 10;
  const tokenOptions = { kind: 'github' as const, app, fetch, scopeSeparator: /[,\s]+/ };

  function client(credentials: ConnectorCredentials): ProviderClient {
    return createProviderClient({
      kind: 'github',
      fetch,
      baseUrl: app.endpoints.apiBaseUrl,
      accessToken: credentials.accessToken,
      // GitHub limits per token (user): tokens from one app still share nothing.
      gateKey: `github:${app.endpoints.apiBaseUrl}:${credentials.accessToken.slice(-8)}`,
      classify: githubClassifier,
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
    });
  }

  async function whoAmI(api: ProviderClient): Promise<{ login: string; scopes: string | null }> {
    const response = await api.get<GithubUser>('/user');
    return { login: response.body.login, scopes: response.headers.get('x-oauth-scopes') };
  }

  function feedRequest(
    feed: Feed,
    since: string,
  ): { path: string; query: Record<string, string | number> } {
    if (feed === 'review') {
      return {
        path: '/search/issues',
        query: {
          q: 'is:pr is:open review-requested:@me',
          sort: 'updated',
          order: 'desc',
          per_page: 100,
        },
      };
    }
    return {
      path: '/issues',
      query: {
        filter: feed,
        state: 'all',
        sort: 'updated',
        direction: 'desc',
        since,
        per_page: 100,
      },
    };
  }

  /** A feed's items, or null when its first page is unchanged (304). */
  async function readFeed(
    api: ProviderClient,
    feed: Feed,
    since: string,
    previous: GithubCursor['etags'][Feed],
  ): Promise<{ issues: GithubIssue[]; etag: string; url: string } | null> {
    const { path, query } = feedRequest(feed, since);
    const url = path + buildUrl('http://x', path, query).search;
    const first = await api.get<GithubIssue[] | { items: GithubIssue[] }>(
      path,
      query,
      previous?.url === url ? previous.etag : undefined,
    );
    if (first.status === 304) return null;
    const issues: GithubIssue[] = [];
    let page = first;
    for (let n = 1; ; n++) {
      issues.push(...(Array.isArray(page.body) ? page.body : page.body.items));
      const next = /<([^>]+)>;\s*rel="next"/.exec(page.headers.get('link') ?? '')?.[1];
      if (!next || n >= maxPages) break;
      page = await api.get<GithubIssue[] | { items: GithubIssue[] }>(next);
    }
    return { issues, etag: first.headers.get('etag') ?? '', url };
  }

  return {
    kind: 'github',
    scopes: GITHUB_SCOPES,
    authorizeUrl: (request) => buildAuthorizeUrl(app, GITHUB_SCOPES, request, { pkce: true }),
    async exchange(code, verifier) {
      const credentials = await exchangeCode(tokenOptions, code, verifier);
      const me = await whoAmI(client(credentials));
      return { ...credentials, extra: { ...credentials.extra, login: me.login } };
    },
    refresh: (credentials) => refreshCredentials(tokenOptions, credentials),
    async test(credentials) {
      const api = client(credentials);
      let scopes: string | null = null;
      let etag = '';
      return runSteps([
        {
          step: 'auth',
          run: async () => {
            const me = await whoAmI(api);
            scopes = me.scopes;
            return `signed in as ${me.login}`;
          },
        },
        {
          step: 'scopes',
          run: async () => {
            // Fine-grained tokens and GitHub App tokens report no scopes: their permissions are checked by the calls.
            if (scopes === null)
              return 'a fine-grained token: permissions are checked by the calls';
            const have = scopes.split(/[,\s]+/).filter(Boolean);
            if (!have.some((s) => s === 'repo' || s === 'public_repo'))
              throw missingScope('github', 'repo');
            return `granted: ${have.join(' ')}`;
          },
        },
        {
          step: 'call',
          run: async () => {
            const response = await api.get<GithubIssue[]>('/issues', {
              filter: 'assigned',
              state: 'open',
              per_page: 1,
            });
            etag = response.headers.get('etag') ?? '';
            return `issues answered (${response.body.length} on the first page)`;
          },
        },
        {
          step: 'cursor',
          run: async () => {
            if (!etag) return 'no ETag given: every poll is a full request';
            const again = await api.get(
              '/issues',
              { filter: 'assigned', state: 'open', per_page: 1 },
              etag,
            );
            return again.status === 304
              ? 'conditional request answered 304 (free)'
              : 'conditional request answered 200';
          },
        },
      ]);
    },
    async sync(credentials, cursor) {
      const api = client(credentials);
      const state =
        decodeCursor<GithubCursor>(cursor) ??
        ({
          v: 1,
          login: credentials.extra?.login ?? (await whoAmI(api)).login,
          known: {},
          etags: {},
        } as GithubCursor);
      const day = new Date(Date.now() - backfillDays * 86_400_000);
      day.setUTCHours(0, 0, 0, 0);
      const since = day.toISOString().replace('.000Z', 'Z');
      const etags = { ...state.etags };
      const fresh = new Map<string, { issue: GithubIssue; review: boolean }>();
      let changed = false;
      for (const feed of FEEDS) {
        const result = await readFeed(api, feed, since, state.etags[feed]);
        if (result === null) continue; // unchanged: its refs stand as they were
        changed = true;
        etags[feed] = {
          url: result.url,
          etag: result.etag,
          refs: result.issues.map((i) => i.node_id),
        };
        for (const issue of result.issues) {
          const entry = fresh.get(issue.node_id);
          fresh.set(issue.node_id, {
            issue,
            review: (entry?.review ?? false) || feed === 'review',
          });
        }
      }
      if (!changed) return { items: [], removedRefs: [], cursor: encodeCursor(state), more: false };
      // Who is still in some feed (unchanged feeds keep their previous refs).
      const present = new Set<string>();
      for (const feed of FEEDS) for (const ref of etags[feed]?.refs ?? []) present.add(ref);
      const reviewRefs = new Set(etags.review?.refs ?? []);
      const known = { ...state.known };
      const items: SourceItem[] = [];
      for (const [ref, { issue }] of fresh) {
        const review = reviewRefs.has(ref);
        // `updated_at` has second precision: the item's own content tells two edits in one second apart.
        const item = normaliseGithubIssue(issue, state.login, review);
        const version = createHash('sha1')
          .update(JSON.stringify(item))
          .digest('base64url')
          .slice(0, 16);
        if (known[ref] === version) continue;
        known[ref] = version;
        items.push(item);
      }
      const removedRefs = Object.keys(known).filter((ref) => !present.has(ref));
      for (const ref of removedRefs) delete known[ref];
      return { items, removedRefs, cursor: encodeCursor({ ...state, known, etags }), more: false };
    },
  };
}

// ---------------------------------------------------------------- normalisation

function repoOf(issue: GithubIssue): string {
  if (issue.repository?.full_name) return issue.repository.full_name;
  const match = /repos\/([^/]+\/[^/]+)$/.exec(issue.repository_url ?? '');
  if (match) return match[1]!;
  return /github\.com\/([^/]+\/[^/]+)\//.exec(issue.html_url)?.[1] ?? 'unknown/unknown';
}

function priorityOf(labels: readonly string[]): ExplicitPriority | undefined {
  for (const label of labels.map((l) => l.toLowerCase())) {
    if (/\b(p0|critical|urgent|priority: ?highest)\b/.test(label)) return 'highest';
    if (/\b(p1|priority: ?high)\b/.test(label)) return 'high';
    if (/\b(p2|priority: ?medium)\b/.test(label)) return 'medium';
    if (/\b(p3|priority: ?low)\b/.test(label)) return 'low';
  }
  return undefined;
}

export function normaliseGithubIssue(
  issue: GithubIssue,
  login: string,
  reviewRequested: boolean,
): SourceItem {
  const repo = repoOf(issue);
  const body = issue.body ?? '';
  const labels = (issue.labels ?? [])
    .map((l) => (typeof l === 'string' ? l : (l.name ?? '')))
    .filter(Boolean);
  const isPr = Boolean(issue.pull_request);
  const me = login.toLowerCase();
  const people: ItemPerson[] = [];
  if (issue.user) {
    people.push({
      role: 'author',
      handle: issue.user.login,
      ...(issue.user.login.toLowerCase() === me ? { isUser: true } : {}),
    });
  }
  for (const a of issue.assignees ?? []) {
    people.push({
      role: 'assignee',
      handle: a.login,
      ...(a.login.toLowerCase() === me ? { isUser: true } : {}),
    });
  }
  if (reviewRequested) people.push({ role: 'reviewer', handle: login, isUser: true });
  const issueKey = `${repo}#${issue.number}`;
  const relative = [...body.matchAll(/(^|[^\w/])#(\d+)\b/g)].map((m) => `${repo}#${m[2]}`);
  const mentioned = new Set([...mentionsIn(body), ...relative]);
  mentioned.delete(issueKey);
  mentioned.delete(issue.html_url);
  const assignedToMe = (issue.assignees ?? []).some((a) => a.login.toLowerCase() === me);
  const open = issue.state === 'open';
  const priority = priorityOf(labels);
  return {
    kind: 'github',
    ref: issue.node_id,
    url: issue.html_url,
    title: `${issueKey}: ${issue.title}`,
    snippet: truncate(body),
    people,
    ...(issue.milestone?.due_on ? { dueAt: new Date(issue.milestone.due_on).toISOString() } : {}),
    labels: [
      ...labels,
      ...(isPr ? ['pull request'] : []),
      ...(reviewRequested ? ['review requested'] : []),
    ],
    ...(priority ? { priority } : {}),
    identifiers: { issueKey, urls: [issue.html_url] },
    mentions: [...mentioned],
    asksUser:
      body.toLowerCase().includes(`@${me}`) && /\?|please|could you|can you|ptal/i.test(body),
    waitingOnUser: open && (reviewRequested || assignedToMe),
    closed: !open,
    createdAt: new Date(issue.created_at).toISOString(),
    updatedAt: new Date(issue.updated_at).toISOString(),
  };
}
