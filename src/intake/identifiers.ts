import type { TaskIdentifiers } from '../store/index.js';
import type { SourceItem } from './connectors/types.js';

/**
 * The identifiers that make two items one task, as comparable values: `thread:<kind>:<id>`
 * (a thread is per provider), `msg:<message id>`, `issue:<KEY>`, `url:<normalised url>`.
 */

/** A URL without its fragment, trailing slash, `www.` and tracking parameters. */
export function normaliseUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.hash = '';
    for (const p of [...u.searchParams.keys()]) {
      if (/^utm_|^(usp|ts|notification_referrer_id)$/.test(p)) u.searchParams.delete(p);
    }
    const host = u.host.toLowerCase().replace(/^www\./, '');
    return `${host}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  } catch {
    return raw.trim().toLowerCase();
  }
}

const messageId = (id: string): string => id.trim().replace(/^<|>$/g, '').toLowerCase();

/** What an item stores: its own identifiers. */
export function ownIdentifiers(kind: string, ids: TaskIdentifiers): string[] {
  const out: string[] = [];
  if (ids.threadId) out.push(`thread:${kind}:${ids.threadId}`);
  if (ids.messageId) out.push(`msg:${messageId(ids.messageId)}`);
  if (ids.issueKey) out.push(`issue:${ids.issueKey.toUpperCase()}`);
  for (const url of ids.urls ?? []) out.push(`url:${normaliseUrl(url)}`);
  return out;
}

/** What an item looks for: its own identifiers and the messages it replies to. */
export function lookupIdentifiers(item: SourceItem): string[] {
  return [
    ...ownIdentifiers(item.kind, item.identifiers),
    ...(item.identifiers.inReplyTo ?? []).map((id) => `msg:${messageId(id)}`),
  ];
}

/** The identifier values a mention (an issue key, a URL, a message id) may resolve to. */
export function mentionIdentifiers(
  mention: string,
): Array<{ value: string; edge: 'issue_link' | 'mention' | 'reply' }> {
  const m = mention.trim();
  if (/^[A-Z][A-Z0-9_]+-\d+$/i.test(m))
    return [{ value: `issue:${m.toUpperCase()}`, edge: 'issue_link' }];
  if (/^https?:\/\//i.test(m)) return [{ value: `url:${normaliseUrl(m)}`, edge: 'mention' }];
  if (m.includes('@')) return [{ value: `msg:${messageId(m)}`, edge: 'reply' }];
  // A GitHub-style reference (`owner/repo#12`) is matched as the issue key its connector gives.
  return [{ value: `issue:${m.toUpperCase()}`, edge: 'issue_link' }];
}

/** GitHub keys are `owner/repo#n`; anything else is a Jira-style `KEY-n`. */
const trackerOf = (key: string): 'github' | 'jira' => (key.includes('#') ? 'github' : 'jira');

/**
 * Why two items cannot be one task even if they read alike: each names a different issue, or
 * each belongs to a different thread of the same provider. Null when nothing conflicts.
 */
export function identifierConflict(
  a: { kind: string; identifiers: TaskIdentifiers },
  b: { kind: string; identifiers: TaskIdentifiers },
): string | null {
  const ka = a.identifiers.issueKey?.toUpperCase();
  const kb = b.identifiers.issueKey?.toUpperCase();
  // Within one tracker two keys are two issues; across trackers (a GitHub issue and the Jira
  // story of the same work) they may well be one task, so similarity decides.
  if (ka && kb && ka !== kb && trackerOf(ka) === trackerOf(kb)) {
    return `different issues (${ka}, ${kb})`;
  }
  if (
    a.kind === b.kind &&
    a.identifiers.threadId &&
    b.identifiers.threadId &&
    a.identifiers.threadId !== b.identifiers.threadId
  ) {
    return `different ${a.kind} threads`;
  }
  return null;
}
