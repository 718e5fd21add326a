/**
 * What the dashboard needs beyond the run, repository and budget API: browser login sessions,
 * search over a run's whole log, the effective configuration (secrets masked) and budget use
 * per day. Shared by the server, the typed client and the dashboard.
 */
import { z } from 'zod';

/** The header a cookie-authenticated request that changes something must carry (value `1`). */
export const CSRF_HEADER = 'x-patchbay-csrf';

/** Body of `POST /v1/auth/login`: one of the server's PATCHBAY_API_TOKENS. */
export const LoginRequest = z
  .object({ token: z.string().min(1).max(4096).describe('One of PATCHBAY_API_TOKENS.') })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequest>;

/** `GET /v1/auth/session` (and the answer of login and logout). */
export const SessionState = z.object({
  /** False when the server has no tokens: every request is allowed, no login needed. */
  authEnabled: z.boolean(),
  /** Whether this request is allowed to use the API (always true without tokens). */
  authenticated: z.boolean(),
  /** How this request authenticated; null when it did not (or auth is off). */
  via: z.enum(['cookie', 'bearer']).nullable(),
  /** When the session cookie stops working (cookie sessions only). */
  expiresAt: z.string().nullable(),
  /** Send this header, with value `1`, on every request that changes something. */
  csrfHeader: z.literal(CSRF_HEADER),
});
export type SessionState = z.infer<typeof SessionState>;

/**
 * A run's log is the text of its `output` events (every stream) in seq order, split at `\n`
 * (a trailing `\r` dropped): line numbers count from 1 over the whole run. `seq` is the event
 * the line starts in. A line longer than 16 KiB is cut there (`cut: true`).
 */
export const LogLine = z.object({
  line: z.number().int(),
  seq: z.number().int(),
  text: z.string(),
  cut: z.boolean().optional(),
});
export type LogLine = z.infer<typeof LogLine>;

export const LogSearchQuery = z
  .object({
    q: z.string().min(1).max(500).describe('Text to find (case-insensitive, not a pattern).'),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();
export type LogSearchQuery = z.infer<typeof LogSearchQuery>;

export const LogSearchResult = z.object({
  matches: z.array(LogLine),
  /** More lines matched than `limit`. */
  truncated: z.boolean(),
  /** Lines in the log now (a running run's log grows). */
  totalLines: z.number().int(),
});
export type LogSearchResult = z.infer<typeof LogSearchResult>;

export const LogLinesQuery = z
  .object({
    start: z.coerce.number().int().min(1).default(1).describe('First line (1-based).'),
    count: z.coerce.number().int().min(1).max(5000).default(200),
  })
  .strict();
export type LogLinesQuery = z.infer<typeof LogLinesQuery>;

export const LogLines = z.object({
  lines: z.array(LogLine),
  totalLines: z.number().int(),
});
export type LogLines = z.infer<typeof LogLines>;

/** One setting of the effective configuration, as `GET /v1/settings` shows it. */
export const EffectiveSetting = z.object({
  key: z.string(),
  env: z.string(),
  /** The value in effect; secrets are replaced by `********` (null when unset). */
  value: z.unknown(),
  secret: z.boolean(),
  /** The default as documented in docs/config.md. */
  defaultText: z.string(),
  description: z.string(),
});
export type EffectiveSetting = z.infer<typeof EffectiveSetting>;

export const SettingList = z.object({ settings: z.array(EffectiveSetting) });
export type SettingList = z.infer<typeof SettingList>;

export const BudgetUsageQuery = z
  .object({
    days: z.coerce.number().int().min(1).max(366).default(30),
    repo: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('A repository (id or name): only its runs; default every run.'),
  })
  .strict();
export type BudgetUsageQuery = z.infer<typeof BudgetUsageQuery>;

/** Use of one budget day (midnight to midnight in PATCHBAY_BUDGET_TIMEZONE). */
export const BudgetDay = z.object({
  /** The local date, YYYY-MM-DD. */
  day: z.string(),
  /** Its midnight (ISO, UTC). */
  start: z.string(),
  runs: z.number().int(),
  agentMinutes: z.number(),
  usd: z.number(),
  estimatedUsd: z.number(),
});
export type BudgetDay = z.infer<typeof BudgetDay>;

export const BudgetUsageHistory = z.object({
  timezone: z.string(),
  /** `global`, or the repository id. */
  scope: z.string(),
  /** Oldest first; the last is today (so far). */
  days: z.array(BudgetDay),
});
export type BudgetUsageHistory = z.infer<typeof BudgetUsageHistory>;
