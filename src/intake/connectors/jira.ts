/**
 * Jira Cloud through OAuth 2.0 (3LO): the issues the user is assigned, reported or watches.
 * Each sync asks the enhanced JQL search (`/rest/api/3/search/jql`) for issues with
 * `updated >= <last seen − overlap>`, written as a relative duration (`-125m`) because a JQL date
 * literal is read in the user's time zone and has minute precision. The overlap catches late
 * index updates; what it brings again unchanged (same id, same `updated`) is dropped, so nothing
 * doubles. JQL cannot see deleted issues: after each incremental pass one id-only query lists
 * the issues still matching in the window, and the ones missing become `removedRefs`.
 * Atlassian does not document PKCE for 3LO, so none is sent (the client secret protects the code).
 */
import {
  createProviderClient,
  decodeCursor,
  encodeCursor,
  mentionsIn,
  missingScope,
  runSteps,
  scopeStep,
  truncate,
  uniqueByRef,
  type ErrorClassifier,
  type ProviderClient,
} from './http.js';
import { buildAuthorizeUrl, exchangeCode, refreshCredentials } from './oauth.js';
import {
  ConnectorError,
  type Connector,
  type ConnectorAppConfig,
  type ConnectorCredentials,
  type ConnectorEndpoints,
  type ExplicitPriority,
  type Fetch,
  type ItemPerson,
  type SourceItem,
  type SyncResult,
} from './types.js';

export const JIRA_ENDPOINTS: ConnectorEndpoints = {
  apiBaseUrl: 'https://api.atlassian.com',
  authorizeUrl: 'https://auth.atlassian.com/authorize',
  tokenUrl: 'https://auth.atlassian.com/oauth/token',
};
export const JIRA_SCOPES = ['read:jira-work', 'read:jira-user', 'offline_access'] as const;

export interface JiraOptions {
  readonly backfillDays?: number;
  /** How far before the last seen `updated` each query starts again. */
  readonly overlapMs?: number;
  readonly pageSize?: number;
}

interface JiraCursor {
  v: 1;
  /** The newest `updated` seen (ISO). */
  since: string | null;
  /** Issue id → the `updated` last emitted, for the window: overlap dedupe and deletions. */
  known: Record<string, string>;
  /** A pass in progress: its query and the next page. */
  page?: { jql: string; token: string; maxSeen: string | null; rebackfill?: boolean };
}

interface AdfNode {
  type?: string;
  text?: string;
  attrs?: { id?: string; text?: string };
  content?: AdfNode[];
}

interface JiraUser {
  accountId?: string;
  displayName?: string;
  emailAddress?: string;
}

export interface JiraIssue {
  id: string;
  key: string;
  fields: {
    summary?: string;
    description?: AdfNode | string | null;
    status?: { name?: string; statusCategory?: { key?: string } };
    priority?: { name?: string } | null;
    assignee?: JiraUser | null;
    reporter?: JiraUser | null;
    duedate?: string | null;
    labels?: string[];
    issuetype?: { name?: string };
    created?: string;
    updated?: string;
    issuelinks?: {
      type?: { name?: string };
      inwardIssue?: { key: string };
      outwardIssue?: { key: string };
    }[];
  };
}

const USER_FILTER =
  '(assignee = currentUser() OR reporter = currentUser() OR watcher = currentUser())';
const FIELDS =
  'summary,description,status,priority,assignee,reporter,duedate,labels,issuetype,created,updated,issuelinks';

const jiraClassifier: ErrorClassifier = (status, body) => {
  const text = JSON.stringify(body ?? '');
  if (
    (status === 401 || status === 403) &&
    /scope does not match|scope/i.test(text) &&
    !/expired/i.test(text)
  ) {
    return missingScope('jira', 'read:jira-work');
  }
  return null;
};

export function createJiraConnector(
  app: ConnectorAppConfig,
  fetch: Fetch,
  options: JiraOptions = {},
): Connector {
  const backfillDays = options.backfillDays ?? 30;
  const overlapMs = options.overlapMs ?? 5 * 60_000;
  const pageSize = options.pageSize ?? 100;
  const tokenOptions = { kind: 'jira' as const, app, fetch };

  function client(credentials: ConnectorCredentials): ProviderClient {
    const cloudId = credentials.extra?.cloudId;
    if (!cloudId) {
      throw new ConnectorError(
        'auth_revoked',
        'Jira: no Jira site is linked to this connection: reconnect Jira.',
      );
    }
    return createProviderClient({
      kind: 'jira',
      fetch,
      baseUrl: `${app.endpoints.apiBaseUrl.replace(/\/+$/, '')}/ex/jira/${cloudId}`,
      accessToken: credentials.accessToken,
      gateKey: `jira:${app.endpoints.apiBaseUrl}:${cloudId}`,
      classify: jiraClassifier,
    });
  }

  /** After the token: which site (cloud id) the grant is for, and who the user is. */
  async function describe(credentials: ConnectorCredentials): Promise<ConnectorCredentials> {
    const root = createProviderClient({
      kind: 'jira',
      fetch,
      baseUrl: app.endpoints.apiBaseUrl,
      accessToken: credentials.accessToken,
      gateKey: `jira:${app.endpoints.apiBaseUrl}:${app.clientId}`,
      classify: jiraClassifier,
    });
    const { body: sites } = await root.get<
      { id: string; url: string; name?: string; scopes?: string[] }[]
    >('/oauth/token/accessible-resources');
    const site = sites.find((s) => (s.scopes ?? []).some((x) => x.includes('jira'))) ?? sites[0];
    if (!site) {
      throw new ConnectorError(
        'auth_revoked',
        'Jira: the grant gives access to no Jira site: reconnect and pick a site.',
      );
    }
    const withSite = {
      ...credentials,
      extra: { ...credentials.extra, cloudId: site.id, siteUrl: site.url },
    };
    const me = await client(withSite).get<JiraUser>('/rest/api/3/myself');
    return { ...withSite, extra: { ...withSite.extra, accountId: me.body.accountId ?? '' } };
  }

  function search(api: ProviderClient, jql: string, fields: string, token?: string) {
    return api.get<{ issues?: JiraIssue[]; nextPageToken?: string; isLast?: boolean }>(
      '/rest/api/3/search/jql',
      {
        jql,
        fields,
        // Ids alone are cheap: Jira returns up to 5000 a page for them.
        maxResults: fields === 'id' ? 1000 : pageSize,
        nextPageToken: token,
      },
    );
  }

  /** The ids still matching in the window: what was known and is not there was deleted or left. */
  async function stillThere(api: ProviderClient): Promise<Set<string>> {
    const ids = new Set<string>();
    let token: string | undefined;
    do {
      const { body } = await search(
        api,
        `${USER_FILTER} AND updated >= -${backfillDays}d`,
        'id',
        token,
      );
      for (const issue of body.issues ?? []) ids.add(issue.id);
      token = body.isLast === false || body.nextPageToken ? body.nextPageToken : undefined;
    } while (token);
    return ids;
  }

  async function pass(
    credentials: ConnectorCredentials,
    cursor: JiraCursor,
    jql: string,
    token: string | undefined,
    maxSeen: string | null,
    rebackfill: boolean,
  ): Promise<SyncResult> {
    const api = client(credentials);
    const { body } = await search(api, jql, FIELDS, token);
    const items: SourceItem[] = [];
    const known = { ...cursor.known };
    let newest = maxSeen;
    for (const issue of body.issues ?? []) {
      const updated = isoTime(issue.fields.updated);
      if (newest === null || updated > newest) newest = updated;
      if (known[issue.id] === updated) continue; // brought again by the overlap, unchanged
      known[issue.id] = updated;
      items.push(
        normaliseJiraIssue(
          issue,
          credentials.extra?.siteUrl ?? '',
          credentials.extra?.accountId ?? '',
        ),
      );
    }
    const more = Boolean(body.nextPageToken) && body.isLast !== true;
    if (more) {
      const next: JiraCursor = {
        ...cursor,
        known,
        page: { jql, token: body.nextPageToken!, maxSeen: newest, rebackfill },
      };
      return {
        items: uniqueByRef(items),
        removedRefs: [],
        cursor: encodeCursor(next),
        more,
        ...(rebackfill ? { rebackfilled: true } : {}),
      };
    }
    // The pass is over: prune what fell out of the window, find what was deleted.
    const windowStart = new Date(Date.now() - backfillDays * 86_400_000).toISOString();
    const removedRefs: string[] = [];
    if (cursor.since !== null) {
      const present = await stillThere(api);
      for (const id of Object.keys(known)) {
        if (!present.has(id) && known[id]! >= windowStart) {
          removedRefs.push(id);
          delete known[id];
        }
      }
    }
    for (const id of Object.keys(known)) if (known[id]! < windowStart) delete known[id];
    const next: JiraCursor = { v: 1, since: newest ?? cursor.since, known };
    return {
      items: uniqueByRef(items),
      removedRefs,
      cursor: encodeCursor(next),
      more: false,
      ...(rebackfill ? { rebackfilled: true } : {}),
    };
  }

  return {
    kind: 'jira',
    scopes: JIRA_SCOPES,
    authorizeUrl: (request) =>
      buildAuthorizeUrl(app, JIRA_SCOPES, request, {
        pkce: false,
        params: { audience: 'api.atlassian.com', prompt: 'consent' },
      }),
    exchange: async (code) => describe(await exchangeCode(tokenOptions, code, null)),
    refresh: (credentials) => refreshCredentials(tokenOptions, credentials),
    async test(credentials) {
      return runSteps([
        {
          step: 'auth',
          run: async () => {
            const me = await client(credentials).get<JiraUser>('/rest/api/3/myself');
            return `signed in as ${me.body.displayName ?? me.body.accountId} on ${credentials.extra?.siteUrl ?? 'Jira'}`;
          },
        },
        {
          step: 'scopes',
          run: async () =>
            scopeStep('jira', credentials.scopes, [['read:jira-work'], ['read:jira-user']]),
        },
        {
          step: 'call',
          run: async () => {
            const { body } = await search(
              client(credentials),
              `${USER_FILTER} ORDER BY updated DESC`,
              'id',
            );
            return `JQL search answered (${body.issues?.length ?? 0} issues on the first page)`;
          },
        },
        {
          step: 'cursor',
          run: async () => {
            await search(client(credentials), `${USER_FILTER} AND updated >= -5m`, 'id');
            return 'incremental query `updated >= -5m` accepted';
          },
        },
      ]);
    },
    async sync(credentials, cursor) {
      const state = decodeCursor<JiraCursor>(cursor) ?? { v: 1 as const, since: null, known: {} };
      if (state.page) {
        return pass(
          credentials,
          state,
          state.page.jql,
          state.page.token,
          state.page.maxSeen,
          Boolean(state.page.rebackfill),
        );
      }
      const from = state.since === null ? null : Date.parse(state.since) - overlapMs;
      const minutes = from === null ? null : Math.max(1, Math.ceil((Date.now() - from) / 60_000));
      const window =
        minutes === null || minutes > backfillDays * 1440 ? `-${backfillDays}d` : `-${minutes}m`;
      const jql = `${USER_FILTER} AND updated >= "${window}" ORDER BY updated ASC, key ASC`;
      return pass(credentials, state, jql, undefined, state.since, false);
    },
  };
}

// ---------------------------------------------------------------- normalisation

/** Jira's `2026-11-20T10:15:30.000+0000` as ISO UTC. */
function isoTime(value: string | undefined): string {
  if (!value) return new Date(0).toISOString();
  return new Date(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')).toISOString();
}

function adfText(node: AdfNode | string | null | undefined, mentions: string[] = []): string {
  if (!node) return '';
  if (typeof node === 'string') return node;
  if (node.type === 'mention') {
    if (node.attrs?.id) mentions.push(node.attrs.id);
    return node.attrs?.text ?? '';
  }
  const inner = (node.content ?? [])
    .map((c) => adfText(c, mentions))
    .join(node.type === 'doc' ? '\n' : '');
  return (node.text ?? '') + inner;
}

const PRIORITIES: Record<string, ExplicitPriority> = {
  highest: 'highest',
  blocker: 'highest',
  critical: 'highest',
  high: 'high',
  major: 'high',
  medium: 'medium',
  low: 'low',
  minor: 'low',
  lowest: 'lowest',
  trivial: 'lowest',
};

function person(
  role: ItemPerson['role'],
  user: JiraUser | null | undefined,
  me: string,
): ItemPerson[] {
  if (!user) return [];
  return [
    {
      role,
      ...(user.displayName ? { name: user.displayName } : {}),
      ...(user.emailAddress ? { email: user.emailAddress.toLowerCase() } : {}),
      ...(user.accountId ? { handle: user.accountId } : {}),
      ...(user.accountId && user.accountId === me ? { isUser: true } : {}),
    },
  ];
}

export function normaliseJiraIssue(
  issue: JiraIssue,
  siteUrl: string,
  accountId: string,
): SourceItem {
  const f = issue.fields;
  const mentionedIds: string[] = [];
  const description = adfText(f.description, mentionedIds);
  const url = `${siteUrl.replace(/\/+$/, '')}/browse/${issue.key}`;
  const links = (f.issuelinks ?? [])
    .map((l) => l.inwardIssue?.key ?? l.outwardIssue?.key)
    .filter((k): k is string => Boolean(k));
  const done = f.status?.statusCategory?.key === 'done';
  const assignedToMe = Boolean(accountId) && f.assignee?.accountId === accountId;
  const priority = PRIORITIES[(f.priority?.name ?? '').toLowerCase()];
  const people = [
    ...person('assignee', f.assignee, accountId),
    ...person('reporter', f.reporter, accountId),
    ...mentionedIds.map((id) => ({
      role: 'mentioned' as const,
      handle: id,
      ...(id === accountId ? { isUser: true } : {}),
    })),
  ];
  return {
    kind: 'jira',
    ref: issue.id,
    url,
    title: `${issue.key}: ${f.summary ?? ''}`,
    snippet: truncate(description),
    people,
    ...(f.duedate ? { dueAt: `${f.duedate}T23:59:59.000Z` } : {}),
    labels: [...(f.labels ?? []), ...(f.issuetype?.name ? [f.issuetype.name.toLowerCase()] : [])],
    ...(priority ? { priority } : {}),
    identifiers: { issueKey: issue.key, urls: [url] },
    mentions: [...new Set([...links, ...mentionsIn(description).filter((m) => m !== issue.key)])],
    asksUser: mentionedIds.includes(accountId) && /\?/.test(description),
    waitingOnUser: !done && assignedToMe,
    closed: done,
    createdAt: isoTime(f.created),
    updatedAt: isoTime(f.updated),
  };
}
