/**
 * Gmail: messages of the last `backfillDays` (bounded by `maxItems`), then every change through
 * `users.history.list` from the `historyId` the profile reported before the backfill started,
 * so nothing that happens during the backfill is missed. Gmail forgets history after about a
 * week: a 404 on an old `historyId` starts a bounded re-backfill (`rebackfilled: true`). Trash,
 * spam and deletions become `removedRefs`. Notification emails from GitHub and Jira carry the
 * issue they are about as an identifier, so the core can fold them into that issue's task.
 */
import { GMAIL_ENDPOINTS, googleApiClient, googleSignIn } from './google.js';
import {
  asksUserIn,
  decodeCursor,
  encodeCursor,
  isHttpStatus,
  mentionsIn,
  runSteps,
  scopeStep,
  truncate,
  uniqueByRef,
  type ProviderClient,
} from './http.js';
import {
  type Connector,
  type ConnectorAppConfig,
  type ConnectorCredentials,
  type Fetch,
  type ItemPerson,
  type SourceItem,
  type SyncResult,
} from './types.js';

export { GMAIL_ENDPOINTS };
export const GMAIL_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';
/** Broader Gmail scopes that also allow reading. */
const GMAIL_READ_SCOPES = [
  GMAIL_SCOPE,
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/gmail.modify',
];

export interface GmailOptions {
  readonly backfillDays?: number;
  readonly maxItems?: number;
  readonly pageSize?: number;
}

interface GmailCursor {
  v: 1;
  historyId: string;
  user: string;
  /** Set while a (re-)backfill is paging through messages.list. */
  backfill?: { pageToken?: string; fetched: number; rebackfill: boolean };
  /** Set while history.list has more pages. */
  historyPage?: string;
}

interface GmailHeader {
  name: string;
  value: string;
}

export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds?: string[];
  snippet?: string;
  historyId?: string;
  internalDate?: string;
  payload?: { headers?: GmailHeader[] };
}

interface HistoryRecord {
  id: string;
  messagesAdded?: { message: GmailMessage }[];
  messagesDeleted?: { message: GmailMessage }[];
  labelsAdded?: { message: GmailMessage; labelIds: string[] }[];
  labelsRemoved?: { message: GmailMessage; labelIds: string[] }[];
}

const FETCH_CONCURRENCY = 8;
const HIDDEN = new Set(['TRASH', 'SPAM', 'DRAFT', 'CHAT']);
const HEADERS = [
  'Subject',
  'From',
  'To',
  'Cc',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'List-ID',
];

export function createGmailConnector(
  app: ConnectorAppConfig,
  fetch: Fetch,
  options: GmailOptions = {},
): Connector {
  const backfillDays = options.backfillDays ?? 30;
  const maxItems = options.maxItems ?? 500;
  const pageSize = options.pageSize ?? 100;

  const client = (credentials: ConnectorCredentials): ProviderClient =>
    googleApiClient('gmail', GMAIL_SCOPE, app, fetch, credentials);

  async function profile(
    api: ProviderClient,
  ): Promise<{ emailAddress: string; historyId: string }> {
    return (
      await api.get<{ emailAddress: string; historyId: string }>('/gmail/v1/users/me/profile')
    ).body;
  }

  /** messages.get for each id; a message gone meanwhile (404) is reported as removed. */
  async function fetchMessages(
    api: ProviderClient,
    ids: readonly string[],
    user: string,
  ): Promise<{ items: SourceItem[]; gone: string[] }> {
    const items: SourceItem[] = [];
    const gone: string[] = [];
    // A few at a time: one request per message (Gmail's batch endpoint is multipart, not worth it here).
    for (let start = 0; start < ids.length; start += FETCH_CONCURRENCY) {
      const chunk = ids.slice(start, start + FETCH_CONCURRENCY);
      const results = await Promise.all(
        chunk.map(async (id) => {
          try {
            const { body } = await api.get<GmailMessage>(`/gmail/v1/users/me/messages/${id}`, {
              format: 'metadata',
              metadataHeaders: HEADERS,
            });
            return { id, message: body };
          } catch (err) {
            if (isHttpStatus(err, 404)) return { id, message: null };
            throw err;
          }
        }),
      );
      for (const { id, message } of results) {
        if (message === null || (message.labelIds ?? []).some((l) => HIDDEN.has(l))) gone.push(id);
        else items.push(normaliseGmailMessage(message, user));
      }
    }
    return { items, gone };
  }

  async function backfillPage(api: ProviderClient, cursor: GmailCursor): Promise<SyncResult> {
    const state = cursor.backfill ?? { fetched: 0, rebackfill: false };
    const room = Math.min(pageSize, maxItems - state.fetched);
    const { body } = await api.get<{ messages?: { id: string }[]; nextPageToken?: string }>(
      '/gmail/v1/users/me/messages',
      { q: `newer_than:${backfillDays}d`, maxResults: room, pageToken: state.pageToken },
    );
    const ids = (body.messages ?? []).map((m) => m.id).slice(0, room);
    const { items, gone } = await fetchMessages(api, ids, cursor.user);
    const fetched = state.fetched + ids.length;
    const more = Boolean(body.nextPageToken) && fetched < maxItems;
    const next: GmailCursor = more
      ? {
          ...cursor,
          backfill: { pageToken: body.nextPageToken, fetched, rebackfill: state.rebackfill },
        }
      : { v: 1, historyId: cursor.historyId, user: cursor.user };
    return {
      items: uniqueByRef(items),
      removedRefs: gone,
      cursor: encodeCursor(next),
      more,
      ...(state.rebackfill ? { rebackfilled: true } : {}),
    };
  }

  async function startBackfill(api: ProviderClient, rebackfill: boolean): Promise<SyncResult> {
    // The history id is taken before listing: changes made while we page are replayed after.
    const me = await profile(api);
    return backfillPage(api, {
      v: 1,
      historyId: me.historyId,
      user: me.emailAddress,
      backfill: { fetched: 0, rebackfill },
    });
  }

  async function historyPage(api: ProviderClient, cursor: GmailCursor): Promise<SyncResult> {
    let body: { history?: HistoryRecord[]; nextPageToken?: string; historyId?: string };
    try {
      body = (
        await api.get<typeof body>('/gmail/v1/users/me/history', {
          startHistoryId: cursor.historyId,
          pageToken: cursor.historyPage,
          maxResults: pageSize,
          historyTypes: ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'],
        })
      ).body;
    } catch (err) {
      // Gmail keeps history for a limited time: an old startHistoryId answers 404.
      if (isHttpStatus(err, 404)) {
        return startBackfill(api, true);
      }
      throw err;
    }
    // The last word on each message wins: added then trashed is removed, and so on.
    const state = new Map<string, 'present' | 'removed'>();
    for (const record of body.history ?? []) {
      for (const { message } of record.messagesAdded ?? []) {
        const hidden = (message.labelIds ?? []).some((l) => HIDDEN.has(l));
        state.set(message.id, hidden ? 'removed' : 'present');
      }
      for (const { message } of record.messagesDeleted ?? []) state.set(message.id, 'removed');
      for (const change of record.labelsAdded ?? []) {
        if (change.labelIds.some((l) => HIDDEN.has(l))) state.set(change.message.id, 'removed');
        else state.set(change.message.id, 'present');
      }
      for (const change of record.labelsRemoved ?? []) {
        const hiddenNow = (change.message.labelIds ?? []).some((l) => HIDDEN.has(l));
        state.set(change.message.id, hiddenNow ? 'removed' : 'present');
      }
    }
    const present = [...state].filter(([, s]) => s === 'present').map(([id]) => id);
    const removed = [...state].filter(([, s]) => s === 'removed').map(([id]) => id);
    const { items, gone } = await fetchMessages(api, present, cursor.user);
    const next: GmailCursor = body.nextPageToken
      ? { ...cursor, historyPage: body.nextPageToken }
      : { v: 1, historyId: body.historyId ?? cursor.historyId, user: cursor.user };
    return {
      items: uniqueByRef(items),
      removedRefs: [...removed, ...gone],
      cursor: encodeCursor(next),
      more: Boolean(body.nextPageToken),
    };
  }

  return {
    ...googleSignIn('gmail', GMAIL_SCOPE, app, fetch),
    async test(credentials) {
      const api = client(credentials);
      let historyId = '';
      return runSteps([
        {
          step: 'auth',
          run: async () => {
            const me = await profile(api);
            historyId = me.historyId;
            return `signed in as ${me.emailAddress}`;
          },
        },
        {
          step: 'scopes',
          run: async () => scopeStep('gmail', credentials.scopes, [GMAIL_READ_SCOPES]),
        },
        {
          step: 'call',
          run: async () => {
            const { body } = await api.get<{ resultSizeEstimate?: number }>(
              '/gmail/v1/users/me/messages',
              {
                maxResults: 1,
              },
            );
            return `messages.list answered (about ${body.resultSizeEstimate ?? 0} messages)`;
          },
        },
        {
          step: 'cursor',
          run: async () => {
            await api.get('/gmail/v1/users/me/history', {
              startHistoryId: historyId,
              maxResults: 1,
            });
            return `history.list from historyId ${historyId}`;
          },
        },
      ]);
    },
    async sync(credentials, cursor) {
      const api = client(credentials);
      const state = decodeCursor<GmailCursor>(cursor);
      if (state === null) return startBackfill(api, false);
      if (state.backfill) return backfillPage(api, state);
      return historyPage(api, state);
    },
  };
}

// ---------------------------------------------------------------- normalisation

function header(message: GmailMessage, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return message.payload?.headers?.find((h) => h.name.toLowerCase() === wanted)?.value;
}

/** `"Ann Lee" <ann@x.io>, bob@y.io` → people. */
export function parseAddressList(value: string | undefined): { name?: string; email: string }[] {
  if (!value) return [];
  const out: { name?: string; email: string }[] = [];
  for (const part of value.match(/("[^"]*"|[^,])+/g) ?? []) {
    const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(part);
    if (match)
      out.push({
        ...(match[1] ? { name: match[1].trim() } : {}),
        email: match[2]!.trim().toLowerCase(),
      });
    else if (part.includes('@')) out.push({ email: part.trim().toLowerCase() });
  }
  return out;
}

function messageIds(value: string | undefined): string[] {
  return [...(value ?? '').matchAll(/<([^>]+)>/g)].map((m) => m[1]!);
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  '#39': "'",
  nbsp: ' ',
};
function decodeEntities(text: string): string {
  return text.replace(/&(#?\w+);/g, (all, name: string) => ENTITIES[name] ?? all);
}

/** What a GitHub or Jira notification email is about, from its Message-ID, List-ID and subject. */
function notificationSubject(
  messageId: string | undefined,
  subject: string,
): { issueKey?: string; url?: string } {
  const gh = /^([\w.-]+)\/([\w.-]+)\/(issues|pull)\/(\d+)/.exec(messageId ?? '');
  if (gh && messageId?.endsWith('@github.com')) {
    return {
      issueKey: `${gh[1]}/${gh[2]}#${gh[4]}`,
      url: `https://github.com/${gh[1]}/${gh[2]}/${gh[3]}/${gh[4]}`,
    };
  }
  const jira = /^\[JIRA\]\s*(?:\([^)]*\)\s*)?\(?([A-Z][A-Z0-9]+-\d+)\)?/i.exec(subject);
  if (jira) return { issueKey: jira[1]! };
  return {};
}

export function normaliseGmailMessage(message: GmailMessage, user: string): SourceItem {
  const subject = header(message, 'Subject') ?? '(no subject)';
  const snippet = decodeEntities(message.snippet ?? '');
  const from = parseAddressList(header(message, 'From'));
  const to = parseAddressList(header(message, 'To'));
  const cc = parseAddressList(header(message, 'Cc'));
  const me = user.toLowerCase();
  const people: ItemPerson[] = [
    ...from.map((p) => ({
      role: 'from' as const,
      ...p,
      ...(p.email === me ? { isUser: true } : {}),
    })),
    ...to.map((p) => ({ role: 'to' as const, ...p, ...(p.email === me ? { isUser: true } : {}) })),
    ...cc.map((p) => ({ role: 'cc' as const, ...p, ...(p.email === me ? { isUser: true } : {}) })),
  ];
  const messageId = messageIds(header(message, 'Message-ID'))[0];
  const inReplyTo = [
    ...new Set([
      ...messageIds(header(message, 'In-Reply-To')),
      ...messageIds(header(message, 'References')),
    ]),
  ];
  const about = notificationSubject(messageId, subject);
  const fromUser = from.some((p) => p.email === me);
  const toUser = to.some((p) => p.email === me);
  const time = new Date(Number(message.internalDate ?? Date.now())).toISOString();
  // A Google Docs comment notification names the comment's own link (`…?disco=<id>`).
  const commentLinks = mentionsIn(snippet).filter((u) =>
    /^https:\/\/docs\.google\.com\/.*[?&]disco=/.test(u),
  );
  const urls = [...(about.url ? [about.url] : []), ...commentLinks];
  return {
    kind: 'gmail',
    ref: message.id,
    url: `https://mail.google.com/mail/u/0/#all/${message.id}`,
    title: subject,
    snippet: truncate(snippet),
    people,
    labels: (message.labelIds ?? []).filter((l) => !['UNREAD', 'INBOX', 'SENT'].includes(l)),
    identifiers: {
      threadId: message.threadId,
      ...(messageId ? { messageId } : {}),
      ...(inReplyTo.length ? { inReplyTo } : {}),
      ...(about.issueKey ? { issueKey: about.issueKey } : {}),
      ...(urls.length ? { urls } : {}),
    },
    mentions: mentionsIn(`${subject} ${snippet}`).filter((m) => m !== about.issueKey),
    asksUser: !fromUser && toUser && asksUserIn(`${subject} ${snippet}`),
    waitingOnUser: !fromUser && toUser && (message.labelIds ?? []).includes('INBOX'),
    createdAt: time,
    updatedAt: time,
  };
}
