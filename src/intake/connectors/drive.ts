/**
 * Google Drive: comments on the user's files that are assigned to the user or mention them.
 * The first sync takes `changes.getStartPageToken` before listing the files modified in the last
 * `backfillDays` (so nothing changed meanwhile is missed) and reads their comments; after that
 * `changes.list` from the page token says which files changed and their comments are read
 * again. Modified-time polling is not used: it misses deletions. A trashed or removed file, a
 * deleted comment, or one no longer assigned/mentioning the user becomes a `removedRef` (the
 * cursor remembers which comments each file gave). An invalid page token starts a bounded
 * re-backfill (`rebackfilled: true`). A comment's ref is `<fileId>/<commentId>` (comment ids are
 * unique only within a file).
 */
import { DRIVE_ENDPOINTS, googleApiClient, googleSignIn, googleReasons } from './google.js';
import {
  asksUserIn,
  decodeCursor,
  encodeCursor,
  isHttpStatus,
  mentionsIn,
  runSteps,
  scopeStep,
  truncate,
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

export { DRIVE_ENDPOINTS };
export const DRIVE_SCOPE = 'https://www.googleapis.com/auth/drive.readonly';
const DRIVE_READ_SCOPES = [DRIVE_SCOPE, 'https://www.googleapis.com/auth/drive'];

export interface DriveOptions {
  readonly backfillDays?: number;
  /** Files read in a (re-)backfill, at most. */
  readonly maxFiles?: number;
  readonly pageSize?: number;
}

interface DriveCursor {
  v: 1;
  pageToken: string;
  user: string;
  /** The comment ids each file gave last time: what to remove when they go. */
  known: Record<string, string[]>;
  backfill?: { filesPageToken?: string; fetched: number; rebackfill: boolean };
}

export interface DriveFile {
  id: string;
  name: string;
  mimeType?: string;
  webViewLink?: string;
  modifiedTime?: string;
  trashed?: boolean;
}

interface DriveUser {
  displayName?: string;
  emailAddress?: string;
  me?: boolean;
}

export interface DriveReply {
  id: string;
  author?: DriveUser;
  content?: string;
  createdTime?: string;
  modifiedTime?: string;
  deleted?: boolean;
  action?: 'resolve' | 'reopen';
}

export interface DriveComment {
  id: string;
  author?: DriveUser;
  content?: string;
  createdTime: string;
  modifiedTime: string;
  resolved?: boolean;
  deleted?: boolean;
  quotedFileContent?: { mimeType?: string; value?: string };
  assigneeEmailAddress?: string;
  mentionedEmailAddresses?: string[];
  replies?: DriveReply[];
}

interface DriveChange {
  changeType?: string;
  removed?: boolean;
  fileId?: string;
  file?: DriveFile;
}

const FILE_FIELDS = 'id,name,mimeType,webViewLink,modifiedTime,trashed';
const COMMENT_FIELDS =
  'nextPageToken,comments(id,author,content,createdTime,modifiedTime,resolved,deleted,quotedFileContent,assigneeEmailAddress,mentionedEmailAddresses,replies(id,author,content,createdTime,modifiedTime,deleted,action))';

export function createDriveConnector(
  app: ConnectorAppConfig,
  fetch: Fetch,
  options: DriveOptions = {},
): Connector {
  const backfillDays = options.backfillDays ?? 30;
  const maxFiles = options.maxFiles ?? 200;
  const pageSize = options.pageSize ?? 50;

  const client = (credentials: ConnectorCredentials): ProviderClient =>
    googleApiClient('drive', DRIVE_SCOPE, app, fetch, credentials);

  async function comments(api: ProviderClient, fileId: string): Promise<DriveComment[] | null> {
    const all: DriveComment[] = [];
    let pageToken: string | undefined;
    do {
      let body: { comments?: DriveComment[]; nextPageToken?: string };
      try {
        body = (
          await api.get<typeof body>(`/drive/v3/files/${encodeURIComponent(fileId)}/comments`, {
            fields: COMMENT_FIELDS,
            includeDeleted: 'true',
            pageSize: 100,
            pageToken,
          })
        ).body;
      } catch (err) {
        // The file is gone or no longer shared with the user: its comments go too.
        if (isHttpStatus(err, 404)) return null;
        throw err;
      }
      all.push(...(body.comments ?? []));
      pageToken = body.nextPageToken;
    } while (pageToken);
    return all;
  }

  /** Reads a file's comments and reconciles them with what the cursor knew. */
  async function visitFile(
    api: ProviderClient,
    file: DriveFile,
    cursor: DriveCursor,
    items: SourceItem[],
    removed: string[],
  ): Promise<void> {
    const before = cursor.known[file.id] ?? [];
    const list = file.trashed ? null : await comments(api, file.id);
    const relevant = (list ?? []).filter((c) => !c.deleted && isForUser(c, cursor.user));
    const now = new Set(relevant.map((c) => c.id));
    for (const id of before) if (!now.has(id)) removed.push(`${file.id}/${id}`);
    if (now.size) cursor.known[file.id] = [...now];
    else delete cursor.known[file.id];
    for (const comment of relevant) items.push(normaliseDriveComment(comment, file, cursor.user));
  }

  async function backfillPage(api: ProviderClient, cursor: DriveCursor): Promise<SyncResult> {
    const state = cursor.backfill ?? { fetched: 0, rebackfill: false };
    const since = new Date(Date.now() - backfillDays * 86_400_000).toISOString();
    const { body } = await api.get<{ files?: DriveFile[]; nextPageToken?: string }>(
      '/drive/v3/files',
      {
        q: `modifiedTime > '${since}' and trashed = false`,
        fields: `nextPageToken,files(${FILE_FIELDS})`,
        pageSize: Math.min(pageSize, maxFiles - state.fetched),
        orderBy: 'modifiedTime desc',
        pageToken: state.filesPageToken,
      },
    );
    const items: SourceItem[] = [];
    const removed: string[] = [];
    const files = body.files ?? [];
    for (const file of files) await visitFile(api, file, cursor, items, removed);
    const fetched = state.fetched + files.length;
    const more = Boolean(body.nextPageToken) && fetched < maxFiles;
    const next: DriveCursor = { ...cursor };
    if (more)
      next.backfill = { filesPageToken: body.nextPageToken, fetched, rebackfill: state.rebackfill };
    else delete next.backfill;
    return {
      items,
      removedRefs: removed,
      cursor: encodeCursor(next),
      more,
      ...(state.rebackfill ? { rebackfilled: true } : {}),
    };
  }

  async function startBackfill(
    api: ProviderClient,
    previous: DriveCursor | null,
    rebackfill: boolean,
  ): Promise<SyncResult> {
    const user =
      previous?.user ??
      (await api.get<{ user?: DriveUser }>('/drive/v3/about', { fields: 'user' })).body.user
        ?.emailAddress ??
      '';
    // The start token first: whatever changes while the backfill pages is replayed after it.
    const { body } = await api.get<{ startPageToken: string }>('/drive/v3/changes/startPageToken');
    return backfillPage(api, {
      v: 1,
      pageToken: body.startPageToken,
      user: user.toLowerCase(),
      known: previous?.known ?? {},
      backfill: { fetched: 0, rebackfill },
    });
  }

  async function changesPage(api: ProviderClient, cursor: DriveCursor): Promise<SyncResult> {
    let body: { changes?: DriveChange[]; nextPageToken?: string; newStartPageToken?: string };
    try {
      body = (
        await api.get<typeof body>('/drive/v3/changes', {
          pageToken: cursor.pageToken,
          pageSize: 100,
          includeRemoved: 'true',
          spaces: 'drive',
          fields: `nextPageToken,newStartPageToken,changes(changeType,removed,fileId,time,file(${FILE_FIELDS}))`,
        })
      ).body;
    } catch (err) {
      if (isInvalidPageToken(err)) return startBackfill(api, cursor, true);
      throw err;
    }
    const items: SourceItem[] = [];
    const removed: string[] = [];
    const next: DriveCursor = { ...cursor, known: { ...cursor.known } };
    const seen = new Set<string>();
    for (const change of body.changes ?? []) {
      if (change.changeType && change.changeType !== 'file') continue;
      const fileId = change.fileId ?? change.file?.id;
      if (!fileId || seen.has(fileId)) continue;
      seen.add(fileId);
      if (change.removed || !change.file) {
        for (const id of next.known[fileId] ?? []) removed.push(`${fileId}/${id}`);
        delete next.known[fileId];
        continue;
      }
      await visitFile(api, change.file, next, items, removed);
    }
    next.pageToken = body.nextPageToken ?? body.newStartPageToken ?? cursor.pageToken;
    return {
      items,
      removedRefs: removed,
      cursor: encodeCursor(next),
      more: Boolean(body.nextPageToken),
    };
  }

  return {
    ...googleSignIn('drive', DRIVE_SCOPE, app, fetch),
    async test(credentials) {
      const api = client(credentials);
      let token = '';
      return runSteps([
        {
          step: 'auth',
          run: async () => {
            const { body } = await api.get<{ user?: DriveUser }>('/drive/v3/about', {
              fields: 'user',
            });
            return `signed in as ${body.user?.emailAddress ?? body.user?.displayName ?? 'unknown'}`;
          },
        },
        {
          step: 'scopes',
          run: async () => scopeStep('drive', credentials.scopes, [DRIVE_READ_SCOPES]),
        },
        {
          step: 'call',
          run: async () => {
            const { body } = await api.get<{ files?: unknown[] }>('/drive/v3/files', {
              pageSize: 1,
              fields: 'files(id)',
            });
            return `files.list answered (${body.files?.length ?? 0} file)`;
          },
        },
        {
          step: 'cursor',
          run: async () => {
            token = (await api.get<{ startPageToken: string }>('/drive/v3/changes/startPageToken'))
              .body.startPageToken;
            await api.get('/drive/v3/changes', { pageToken: token, pageSize: 1 });
            return `changes.list from page token ${token}`;
          },
        },
      ]);
    },
    async sync(credentials, cursor) {
      const api = client(credentials);
      const state = decodeCursor<DriveCursor>(cursor);
      if (state === null) return startBackfill(api, null, false);
      if (state.backfill) return backfillPage(api, state);
      return changesPage(api, state);
    },
  };
}

/** Drive's answer to a page token it no longer knows: 400 `invalid` on `pageToken`, or 404/410. */
function isInvalidPageToken(err: unknown): boolean {
  if (isHttpStatus(err, 404, 410)) return true;
  if (!isHttpStatus(err, 400)) return false;
  const reasons = googleReasons(err.body);
  return (
    reasons.includes('invalid') ||
    reasons.includes('notFound') ||
    /page ?token/i.test(JSON.stringify(err.body))
  );
}

/** Assigned to the user, or the comment or one of its replies mentions them. */
export function isForUser(comment: DriveComment, user: string): boolean {
  if (comment.assigneeEmailAddress?.toLowerCase() === user) return true;
  if ((comment.mentionedEmailAddresses ?? []).some((e) => e.toLowerCase() === user)) return true;
  const texts = [comment.content ?? '', ...(comment.replies ?? []).map((r) => r.content ?? '')];
  return texts.some(
    (t) => t.toLowerCase().includes(`+${user}`) || t.toLowerCase().includes(`@${user}`),
  );
}

export function normaliseDriveComment(
  comment: DriveComment,
  file: DriveFile,
  user: string,
): SourceItem {
  const replies = (comment.replies ?? []).filter((r) => !r.deleted);
  const last = replies[replies.length - 1];
  const content = comment.content ?? '';
  const assigned = comment.assigneeEmailAddress?.toLowerCase() === user;
  const people: ItemPerson[] = [];
  const author = comment.author;
  if (author) {
    people.push({
      role: 'author',
      ...(author.displayName ? { name: author.displayName } : {}),
      ...(author.emailAddress ? { email: author.emailAddress.toLowerCase() } : {}),
      ...(author.me ? { isUser: true } : {}),
    });
  }
  if (comment.assigneeEmailAddress) {
    const email = comment.assigneeEmailAddress.toLowerCase();
    people.push({ role: 'assignee', email, ...(email === user ? { isUser: true } : {}) });
  }
  for (const email of comment.mentionedEmailAddresses ?? []) {
    const lowered = email.toLowerCase();
    people.push({
      role: 'mentioned',
      email: lowered,
      ...(lowered === user ? { isUser: true } : {}),
    });
  }
  const lastByUser = last ? Boolean(last.author?.me) : Boolean(author?.me);
  const resolved = Boolean(comment.resolved);
  const allText = [content, ...replies.map((r) => r.content ?? '')].join(' ');
  const base = file.webViewLink ?? `https://docs.google.com/open?id=${file.id}`;
  const url = `${base}${base.includes('?') ? '&' : '?'}disco=${comment.id}`;
  const quoted = comment.quotedFileContent?.value;
  return {
    kind: 'drive',
    ref: `${file.id}/${comment.id}`,
    url,
    title: `${file.name}: ${truncate(content, 90)}`,
    snippet: truncate(
      [
        quoted ? `“${quoted}”` : '',
        content,
        last ? `↳ ${last.author?.displayName ?? ''}: ${last.content ?? ''}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    ),
    people,
    labels: [assigned ? 'assigned' : 'mentioned', (file.mimeType ?? '').split('.').pop() ?? 'file'],
    identifiers: { urls: [url] },
    mentions: [...new Set([base, ...mentionsIn(allText)])],
    asksUser: !lastByUser && asksUserIn(allText),
    waitingOnUser: !resolved && (assigned || !lastByUser),
    closed: resolved,
    createdAt: new Date(comment.createdTime).toISOString(),
    updatedAt: new Date(comment.modifiedTime).toISOString(),
  };
}
