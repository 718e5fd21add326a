/**
 * The connectors' public surface: `createConnector(kind, app, fetch)` gives the one
 * `Connector` of a provider; `DEFAULT_ENDPOINTS` are the real providers' URLs (tests and the
 * benchmark point `app.endpoints` at local fakes instead).
 *
 * @example
 *   const gmail = createConnector('gmail', { clientId, clientSecret, redirectUri, endpoints: DEFAULT_ENDPOINTS.gmail }, fetch);
 *   const verifier = generateCodeVerifier();
 *   const url = gmail.authorizeUrl({ state: generateState(), codeVerifier: verifier });
 *   // … the user consents, the callback brings `code` …
 *   const credentials = await gmail.exchange(code, verifier);
 *   let page = await gmail.sync(credentials, null);
 */
import { createDriveConnector, DRIVE_ENDPOINTS, type DriveOptions } from './drive.js';
import { createGithubConnector, GITHUB_ENDPOINTS, type GithubOptions } from './github.js';
import { createGmailConnector, GMAIL_ENDPOINTS, type GmailOptions } from './gmail.js';
import { createJiraConnector, JIRA_ENDPOINTS, type JiraOptions } from './jira.js';
import { assertNever } from '../../contracts/index.js';
import type {
  Connector,
  ConnectorAppConfig,
  ConnectorEndpoints,
  ConnectorKind,
  Fetch,
} from './types.js';

export { CONNECTOR_KINDS, ConnectorError } from './types.js';
export type {
  AuthorizeRequest,
  Connector,
  ConnectorAppConfig,
  ConnectorCredentials,
  ConnectorEndpoints,
  ConnectorErrorKind,
  ConnectorKind,
  ExplicitPriority,
  Fetch,
  ItemPerson,
  PersonRole,
  SourceItem,
  SyncResult,
  TestStep,
} from './types.js';
export { generateCodeVerifier, generateState } from './oauth.js';
export { githubTokenCredentials } from './github.js';
export { GMAIL_SCOPE } from './gmail.js';
export { DRIVE_SCOPE } from './drive.js';
export { JIRA_SCOPES } from './jira.js';
export { GITHUB_SCOPES } from './github.js';

export const DEFAULT_ENDPOINTS: Readonly<Record<ConnectorKind, ConnectorEndpoints>> = {
  gmail: GMAIL_ENDPOINTS,
  jira: JIRA_ENDPOINTS,
  github: GITHUB_ENDPOINTS,
  drive: DRIVE_ENDPOINTS,
};

/** Tuning per connector (the sync window and page sizes); the defaults suit a person's month. */
export interface ConnectorOptions {
  readonly gmail?: GmailOptions;
  readonly jira?: JiraOptions;
  readonly github?: GithubOptions;
  readonly drive?: DriveOptions;
}

export function createConnector(
  kind: ConnectorKind,
  app: ConnectorAppConfig,
  fetch: Fetch = globalThis.fetch,
  options: ConnectorOptions = {},
): Connector {
  switch (kind) {
    case 'gmail':
      return createGmailConnector(app, fetch, options.gmail);
    case 'jira':
      return createJiraConnector(app, fetch, options.jira);
    case 'github':
      return createGithubConnector(app, fetch, options.github);
    case 'drive':
      return createDriveConnector(app, fetch, options.drive);
    default:
      return assertNever(kind);
  }
}
