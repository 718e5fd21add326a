/**
 * The error catalog's entries for the task inbox (src/intake): tasks, triage, connectors and
 * the keys that seal their credentials. Part of `errorCatalog` (errors.ts).
 */
import type { ErrorDefinition } from './error-definition.js';

export const inboxErrors = {
  INBOX_TASK_NOT_FOUND: { status: 404, kind: 'user', message: 'No inbox task with this id.' },
  INBOX_MERGE_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message: 'No merge with this id, or it was already undone.',
  },
  INBOX_TRIAGE_INVALID: {
    status: 409,
    kind: 'user',
    message:
      'The task cannot take this action in its current state (nothing to undo, a task marked a duplicate of itself, …); see details.',
  },
  INBOX_CONNECTOR_UNKNOWN: {
    status: 404,
    kind: 'user',
    message: 'No such connector kind: gmail, jira, github or drive.',
  },
  INBOX_CONNECTOR_NOT_CONFIGURED: {
    status: 409,
    kind: 'user',
    message:
      'This connector has no OAuth app configured: set its client id (and secret) in PATCHBAY_INBOX_APPS; see docs/inbox.md.',
  },
  INBOX_CONNECTOR_NOT_CONNECTED: {
    status: 409,
    kind: 'user',
    message:
      'This connector is not connected: connect it first (POST /v1/connectors/:kind/connect).',
  },
  INBOX_OAUTH_STATE_INVALID: {
    status: 400,
    kind: 'user',
    message:
      'The OAuth callback carries no state this server issued, or it expired: start the connect again.',
  },
  INBOX_OAUTH_DENIED: {
    status: 400,
    kind: 'user',
    message:
      'The provider sent the browser back without an authorization code (access was declined, or the OAuth app is misconfigured); start the connect again.',
  },
  INBOX_OAUTH_FAILED: {
    status: 502,
    kind: 'operational',
    message: 'The provider refused the authorization code; start the connect again.',
  },
  INBOX_KEYRING_MISSING: {
    status: 409,
    kind: 'user',
    message:
      'No key to seal connector credentials with: set PATCHBAY_INBOX_KEYS (or PATCHBAY_SECRETS_KEY) on every process sharing this PostgreSQL store.',
  },
  INBOX_KEY_MISSING: {
    status: 500,
    kind: 'operational',
    message:
      'Credentials were sealed with a key no longer in PATCHBAY_INBOX_KEYS: add it back after the active key and run `patchbay keys rotate`.',
  },
  INBOX_CREDENTIALS_UNREADABLE: {
    status: 500,
    kind: 'operational',
    message:
      "A connector's stored credentials fail authentication (altered, or sealed for another row): reconnect it.",
  },
  INBOX_SYNC_IN_PROGRESS: {
    status: 409,
    kind: 'user',
    message:
      'This connector is being synced right now (by this or another process sharing the store); its result shows in GET /v1/connectors.',
  },
  INBOX_DEV_SEED_DISABLED: {
    status: 404,
    kind: 'user',
    message: 'Demo data is off: set PATCHBAY_INBOX_DEV_SEED=1 to enable POST /v1/dev/seed.',
  },
  INBOX_LLM_BAD_OUTPUT: {
    status: 502,
    kind: 'operational',
    message:
      "The model's answer to the inbox's LLM pass was not the JSON asked for (a summary of at most 200 characters, up to 3 labels): it is dropped and the task is asked again at the next sync (logged, never returned by the API).",
  },
  INBOX_EMBEDDINGS_RATE_LIMITED: {
    status: 503,
    kind: 'operational',
    message:
      'The embeddings provider rate-limited Patchbay: duplicates are found with the offline method until the limit ends (logged, never returned by the API).',
  },
  INBOX_EMBEDDINGS_UNAUTHORIZED: {
    status: 503,
    kind: 'operational',
    message:
      'The embeddings provider refused PATCHBAY_INBOX_EMBEDDINGS_API_KEY: duplicates are found with the offline method; fix the key (logged, never returned by the API).',
  },
  INBOX_EMBEDDINGS_UNAVAILABLE: {
    status: 503,
    kind: 'operational',
    message:
      'The embeddings provider did not answer or failed: duplicates are found with the offline method meanwhile (logged, never returned by the API).',
  },
  INBOX_EMBEDDINGS_BAD_RESPONSE: {
    status: 502,
    kind: 'operational',
    message:
      'The embeddings provider answered something other than one vector per text (a wrong URL, model or provider?): the offline method is used (logged, never returned by the API).',
  },
} as const satisfies Record<string, ErrorDefinition>;
