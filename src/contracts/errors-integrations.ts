/**
 * The error catalog's entries for the ways in and out that are not Patchbay's own API:
 * signed triggers and inbound webhooks, the MCP server and the compatibility layers. Part of
 * `errorCatalog` (errors.ts), which the codes are looked up in and docs/errors.md lists.
 */
import type { ErrorDefinition } from './error-definition.js';

export const integrationErrors = {
  // --- triggers and inbound webhooks -----------------------------------------------------
  ACTIONS_REPORT_UNAUTHORIZED: {
    status: 401,
    kind: 'user',
    message:
      "The GitHub Action's report is not signed with the key its run's dispatch handed out (client_payload.report_secret, Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), or no dispatch of this run expects one.",
  },
  ACTIONS_REPORT_EXPIRED: {
    status: 401,
    kind: 'user',
    message:
      "The report's webhook-timestamp is outside the replay window (PATCHBAY_TRIGGER_TOLERANCE_MS, 5 minutes by default, either way): sign it with the current time.",
  },
  ACTIONS_REPORT_REPLAYED: {
    status: 401,
    kind: 'user',
    message:
      'This webhook-id was already accepted for this run: the report was recorded once and is not recorded again.',
  },
  TRIGGER_NOT_FOUND: { status: 404, kind: 'user', message: 'No trigger with this id.' },
  TRIGGER_DISABLED: {
    status: 409,
    kind: 'user',
    message: 'The trigger is disabled: enable it (PATCH `enabled: true`) to start runs again.',
  },
  TRIGGER_TEMPLATE_INVALID: {
    status: 400,
    kind: 'user',
    message:
      'The run template is invalid: `{{` must open a placeholder such as `{{payload.issue.title}}`, in prompt, model, ref or env values only; see details.',
  },
  TRIGGER_RUN_INVALID: {
    status: 422,
    kind: 'user',
    message:
      'The signed payload was accepted, but the run it maps to is invalid (a field missing or out of range); see details.',
  },
  TRIGGER_SIGNATURE_MISSING: {
    status: 401,
    kind: 'user',
    message:
      'Standard Webhooks headers are required: webhook-id, webhook-timestamp and webhook-signature.',
  },
  TRIGGER_SIGNATURE_INVALID: {
    status: 401,
    kind: 'user',
    message:
      "No signature in webhook-signature matches: sign `<webhook-id>.<webhook-timestamp>.<body>` with HMAC-SHA256 and the trigger's secret (base64 after `whsec_`).",
  },
  TRIGGER_TIMESTAMP_EXPIRED: {
    status: 401,
    kind: 'user',
    message:
      'webhook-timestamp is outside the replay window (PATCHBAY_TRIGGER_TOLERANCE_MS, 5 minutes by default, either way): sign with the current time.',
  },
  TRIGGER_WEBHOOK_REPLAYED: {
    status: 401,
    kind: 'user',
    message:
      'This webhook-id was already accepted for this trigger: its run was started once and is not started again.',
  },
  TELEGRAM_BOT_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message: 'No Telegram bot of this name is configured (PATCHBAY_TELEGRAM_BOTS).',
  },
  TELEGRAM_SECRET_INVALID: {
    status: 401,
    kind: 'user',
    message:
      "X-Telegram-Bot-Api-Secret-Token is missing or does not match the bot's webhookSecret (the secret_token given to setWebhook).",
  },
  // --- MCP ----------------------------------------------------------------------------
  MCP_TOOL_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message: 'No such MCP tool; tools/list names the tools this server has.',
  },
  MCP_TOOL_READ_ONLY: {
    status: 403,
    kind: 'user',
    message:
      'This MCP server is read-only (PATCHBAY_MCP_READ_ONLY or --read-only): tools that change something cannot be called.',
  },
  MCP_RESOURCE_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message:
      'No such MCP resource; resources/templates/list names the URI templates this server reads.',
  },
  MCP_METHOD_NOT_ALLOWED: {
    status: 405,
    kind: 'user',
    message:
      'The MCP endpoint is stateless: POST each JSON-RPC message to /mcp; there is no session stream to GET or session to DELETE.',
  },
  // --- compatibility layers -----------------------------------------------------------
  CC_EXECUTOR_PROCESS_RUNNING: {
    status: 409,
    kind: 'user',
    message: 'A process is already running in this cc-executor session; one runs at a time.',
  },
  CC_EXECUTOR_NO_PROCESS: {
    status: 404,
    kind: 'user',
    message: 'No process is running in this cc-executor session.',
  },
  CC_EXECUTOR_SESSION_LIMIT: {
    status: 429,
    kind: 'user',
    message: 'The cc-executor layer has as many WebSocket sessions open as it allows.',
  },
  CC_EXECUTOR_EXECUTION_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message:
      'Execution not found (cc-executor executions are kept in memory by the server that ran them).',
  },
  CC_EXECUTOR_EXECUTION_NOT_RUNNING: {
    status: 400,
    kind: 'user',
    message: 'Execution is not running.',
  },
} as const satisfies Record<string, ErrorDefinition>;
