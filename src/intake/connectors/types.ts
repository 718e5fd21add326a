/**
 * The one shape every inbox connector (Gmail, Jira Cloud, GitHub, Google Drive) has, and the
 * normalised item a sync yields. The intake core (tasks, de-duplication, ranking, routes) only
 * ever sees these types; each provider's wire format stays inside its connector.
 */

export const CONNECTOR_KINDS = ['gmail', 'jira', 'github', 'drive'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

/** What a connector holds after `exchange`/`refresh` (sealed at rest by the intake store). */
export interface ConnectorCredentials {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** ISO time the access token expires, when the provider says. */
  readonly expiresAt?: string;
  /** Scopes granted, as the provider reports them. */
  readonly scopes?: readonly string[];
  /** Provider extras that are not secret (Jira's cloud id and site URL, a GitHub login). */
  readonly extra?: Readonly<Record<string, string>>;
}

/** Where a connector talks to: real provider URLs by default, a local fake in tests. */
export interface ConnectorEndpoints {
  readonly apiBaseUrl: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
}

export interface ConnectorAppConfig {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly redirectUri: string;
  readonly endpoints: ConnectorEndpoints;
}

export interface AuthorizeRequest {
  readonly state: string;
  /** PKCE verifier (the connector derives the S256 challenge) where the provider supports it. */
  readonly codeVerifier: string;
}

export type PersonRole =
  'from' | 'to' | 'cc' | 'author' | 'assignee' | 'reporter' | 'mentioned' | 'reviewer';

export interface ItemPerson {
  readonly role: PersonRole;
  readonly name?: string;
  readonly email?: string;
  /** A provider login or account id (GitHub login, Atlassian account id). */
  readonly handle?: string;
  /** True when this person is the connected user. */
  readonly isUser?: boolean;
}

export type ExplicitPriority = 'highest' | 'high' | 'medium' | 'low' | 'lowest';

/** One thing a source holds, normalised. `ref` is stable for the item's whole life. */
export interface SourceItem {
  readonly kind: ConnectorKind;
  /** The source's own id: Gmail message id, Jira issue id, GitHub node id, Drive comment id. */
  readonly ref: string;
  readonly url?: string;
  readonly title: string;
  readonly snippet: string;
  readonly people: readonly ItemPerson[];
  readonly dueAt?: string;
  readonly labels: readonly string[];
  readonly priority?: ExplicitPriority;
  /** Identifiers that make two items one task (same thread, message id, issue key, URL). */
  readonly identifiers: {
    readonly threadId?: string;
    readonly messageId?: string;
    readonly inReplyTo?: readonly string[];
    readonly issueKey?: string;
    readonly urls?: readonly string[];
  };
  /** Other items this one names (issue keys, URLs, message ids): the graph's edges. */
  readonly mentions: readonly string[];
  /** The user is asked something directly (a question or request addressed to them). */
  readonly asksUser?: boolean;
  /** The ball is in the user's court (review requested, assigned, last reply not theirs). */
  readonly waitingOnUser?: boolean;
  /** The item is closed/resolved at the source. */
  readonly closed?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SyncResult {
  readonly items: readonly SourceItem[];
  /** Refs deleted at the source, or no longer visible to the user: their tasks are archived. */
  readonly removedRefs: readonly string[];
  /** The cursor to pass to the next sync (opaque to the core). */
  readonly cursor: string;
  /** More pages are waiting: call `sync` again with `cursor` now. */
  readonly more: boolean;
  /** The cursor had expired: this result is a bounded re-backfill, not an increment. */
  readonly rebackfilled?: boolean;
}

export interface TestStep {
  readonly step: 'auth' | 'scopes' | 'call' | 'cursor';
  readonly ok: boolean;
  readonly detail: string;
}

export type ConnectorErrorKind =
  | 'auth_expired'
  | 'auth_revoked'
  | 'missing_scope'
  | 'rate_limited'
  | 'cursor_expired'
  | 'unavailable'
  | 'bad_response';

/** A provider failure, in words the user can act on ("reconnect", "missing scope …", …). */
export class ConnectorError extends Error {
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
    /** For `rate_limited`: no request may be sent before this time. */
    readonly retryAt?: Date,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/** The HTTP seam: the global fetch in production, the same against a local fake in tests. */
export type Fetch = typeof fetch;

export interface Connector {
  readonly kind: ConnectorKind;
  /** Read-only scopes wherever the provider offers them. */
  readonly scopes: readonly string[];
  authorizeUrl(request: AuthorizeRequest): URL;
  exchange(code: string, codeVerifier: string): Promise<ConnectorCredentials>;
  refresh(credentials: ConnectorCredentials): Promise<ConnectorCredentials>;
  /** Cheap calls that prove the credentials, the scopes, one real call and the cursor. */
  test(credentials: ConnectorCredentials): Promise<readonly TestStep[]>;
  /** `cursor` null: the first sync (a bounded backfill). Throws ConnectorError. */
  sync(credentials: ConnectorCredentials, cursor: string | null): Promise<SyncResult>;
}
