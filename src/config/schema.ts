/**
 * Every setting, and the configuration they resolve to. The env name, the config-file key and
 * the CLI flag of each derive from its SettingSpec (./settings/, one file per area), and so
 * does docs/config.md (`npm run docs`; a test fails when it is stale).
 */
import type { LlmProviderName } from '../contracts/index.js';
import { compatSettings, type CompatLayer } from './settings/compat.js';
import { deliverySettings } from './settings/delivery.js';
import { inboundSettings, type TelegramBot } from './settings/inbound.js';
import { githubSettings } from './settings/github.js';
import { inboxSettings, type InboxApps } from './settings/inbox.js';
import { executionSettings, type CredentialAgent } from './settings/execution.js';
import { eventSettings, storeQueueSettings } from './settings/infrastructure.js';
import { llmSettings } from './settings/llm.js';
import { mcpSettings } from './settings/mcp.js';
import { observabilitySettings } from './settings/observability.js';
import { budgetSettings, conversationSettings, runLimitSettings } from './settings/runs.js';
import { authSettings, requestLimitSettings, serverSettings } from './settings/server.js';

/** Every setting. The order of these groups is the order docs/config.md lists them in. */
export const settings = {
  ...serverSettings,
  ...storeQueueSettings,
  ...authSettings,
  ...observabilitySettings,
  ...runLimitSettings,
  ...executionSettings,
  ...conversationSettings,
  ...budgetSettings,
  ...llmSettings,
  ...deliverySettings,
  ...inboundSettings,
  ...githubSettings,
  ...inboxSettings,
  ...requestLimitSettings,
  ...mcpSettings,
  ...eventSettings,
  ...compatSettings,
};

export type SettingKey = keyof typeof settings;

/** The validated, fully-defaulted configuration handed to every module. */
export interface ResolvedConfig {
  dataDir: string;
  host: string;
  port: number;
  url: string | undefined;
  /** The CLI's bearer token; unset means the first of `apiTokens`. */
  token: string | undefined;
  /** Always set: defaults to the SQLite file in the data dir. */
  databaseUrl: string;
  queueUrl: string | undefined;
  queuePrefix: string;
  queues: string[];
  runLeaseMs: number;
  connectTimeoutMs: number;
  workerGraceMs: number;
  workerHealthPort: number | undefined;
  apiTokens: string[];
  sessionTtlMs: number;
  /** Always set: defaults to the package's dist/web. */
  webDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'auto' | 'json' | 'pretty';
  otlpEndpoint: string | undefined;
  otlpHeaders: Record<string, string>;
  otlpServiceName: string;
  sentryDsn: string | undefined;
  maxConcurrentRuns: number;
  runTimeoutMs: number;
  idleTimeoutMs: number;
  resultGraceMs: number;
  killGraceMs: number;
  maxOutputBytes: number;
  outputPolicy: 'kill' | 'truncate';
  outputTailBytes: number;
  outputDropRate: number;
  gateTimeoutMs: number;
  optimizeStageTimeoutMs: number;
  /** Always set: defaults to `<dataDir>/workspaces`. */
  workspaceRoots: string[];
  allowedCommands: string[] | undefined;
  childEnvAllowlist: string[];
  /** Values of the allow-listed variables, captured once from the server's environment. */
  childEnvBase: Record<string, string>;
  /** Values of each agent's credential variables, captured once (PATCHBAY_AGENT_CREDENTIALS). */
  agentCredentialValues: Record<CredentialAgent, Record<string, string>>;
  agentCredentials: 'auto' | 'none';
  workspaceTtlMs: number;
  sandbox: 'none' | 'bwrap';
  sandboxBwrapBin: string;
  runContainment: 'auto' | 'pidns' | 'none';
  conversationSummaryMessages: number;
  budgetTimezone: string;
  budgetInputUsdPerMtok: number;
  budgetOutputUsdPerMtok: number;
  llmProvider: LlmProviderName | undefined;
  llmModel: string | undefined;
  openaiApiKey: string | undefined;
  openaiBaseUrl: string | undefined;
  anthropicApiKey: string | undefined;
  anthropicBaseUrl: string | undefined;
  geminiApiKey: string | undefined;
  geminiBaseUrl: string | undefined;
  llmBaseUrl: string | undefined;
  llmApiKey: string | undefined;
  llmMaxRetries: number;
  llmMaxRetryDelayMs: number;
  llmTimeoutMs: number;
  allowPrivateRepoUrls: boolean;
  cloneTimeoutMs: number;
  agentClaudeBin: string;
  agentCursorBin: string;
  agentCodexBin: string;
  agentGeminiBin: string;
  webhookSecret: string | undefined;
  artifactUrlSecret: string | undefined;
  secretsKey: string | undefined;
  artifactUrlTtlMs: number;
  publicUrl: string | undefined;
  allowedHosts: string[];
  allowedOrigins: string[];
  allowPrivateCallbackUrls: boolean;
  callbackMaxAttempts: number;
  callbackBackoffMs: number;
  callbackTimeoutMs: number;
  triggerToleranceMs: number;
  /** Telegram bots by name. */
  telegramBots: Record<string, TelegramBot>;
  telegramApiUrl: string;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  runCreateRateLimit: number;
  authFailureLimit: number;
  eventFlushMs: number;
  mcpReadOnly: boolean;
  mcpWaitLimitMs: number;
  /** Compatibility layers served (PATCHBAY_COMPAT). */
  compat: CompatLayer[];
  ccExecutorHeartbeatMs: number;
  cursorRunnerRepositoriesPath: string | undefined;
  cursorRunnerAgent: 'claude' | 'cursor' | 'codex' | 'gemini';
  cursorRunnerWebhookSecret: string | undefined;
  cursorRunnerTaskOperator: boolean;
  cursorRunnerTaskPollMs: number;
  githubToken: string | undefined;
  githubAppId: number | undefined;
  githubAppPrivateKeyFile: string | undefined;
  githubWebhookSecret: string | undefined;
  githubApiUrl: string;
  githubUrl: string;
  githubTriggerPhrase: string;
  githubTriggerLabels: string[];
  githubAgent: 'claude' | 'cursor' | 'codex' | 'gemini';
  githubDeliver: 'branch' | 'draft_pr' | 'pr' | 'ready_pr';
  githubPrLabels: string[];
  githubDeliveryMaxAttempts: number;
  githubDeliveryBackoffMs: number;
  githubWebhookRetryMs: number;
  /** Handled inbound webhook delivery ids older than this are deleted. */
  webhookDeliveryRetentionMs: number;
  inboxKeys: string[];
  inboxApps: InboxApps;
  inboxSyncIntervalMs: number;
  inboxEmbeddingsUrl: string | undefined;
  inboxEmbeddingsProvider: 'openai' | 'google';
  inboxEmbeddingsModel: string;
  inboxEmbeddingsApiKey: string | undefined;
  /** The inbox's optional LLM pass (summary and labels after each sync), and its bound. */
  inboxLlm: boolean;
  inboxLlmMaxPerSync: number;
  inboxDevSeed: boolean;
}
