/**
 * What never leaves the process in clear: the logger redacts these paths, and error reports
 * (and span error messages) go through `scrub`, which uses the same names.
 */
export const redactPaths = [
  'token',
  'apiToken',
  'apiTokens',
  'password',
  'secret',
  'apiKey',
  'authorization',
  'webhookSecret',
  'databaseUrl',
  // Model providers' keys (settings) and the headers that carry them.
  'openaiApiKey',
  'anthropicApiKey',
  'geminiApiKey',
  'llmApiKey',
  '*.openaiApiKey',
  '*.anthropicApiKey',
  '*.geminiApiKey',
  '*.llmApiKey',
  'headers["x-goog-api-key"]',
  '*.headers["x-goog-api-key"]',
  '*.headers["x-api-key"]',
  '*.token',
  '*.apiToken',
  '*.apiTokens',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  '*.webhookSecret',
  '*.databaseUrl',
  '*.env',
  'env',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  // Inbox connector credentials (OAuth tokens) and the PKCE verifier, wherever they are logged.
  'accessToken',
  'refreshToken',
  'credentials',
  'codeVerifier',
  'inboxKeys',
  '*.accessToken',
  '*.refreshToken',
  '*.credentials',
  '*.codeVerifier',
  '*.inboxKeys',
];

export const REDACTED = '[redacted]';

/** The property names of `redactPaths`, compared case-insensitively at any depth. */
const redactedKeys = new Set(
  redactPaths.map((p) =>
    p
      .split('.')
      .at(-1)!
      .replace(/^\w*\["(.+)"\]$/, '$1')
      .replace(/^headers\[|\]$/g, '')
      .toLowerCase(),
  ),
);
redactedKeys.add('cookie');
redactedKeys.add('x-api-key');

/** Query parameters whose values are credentials: signed-URL signatures, tokens, keys. */
const SECRET_QUERY =
  /([?&;](?:sig|signature|token|access_token|api_key|apikey|key|secret|password|code)=)[^&#\s]*/gi;

/** A URL (or any text) with credential-bearing query values replaced: safe to log or send. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, `$1${REDACTED}`);
}

/** Credentials in free text: bearer tokens and URL passwords (query values: `redactUrl`). */
const textPatterns: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, `$1${REDACTED}@`],
  // Telegram Bot API URLs carry the bot token in their path.
  [/\/bot\d+:[A-Za-z0-9_-]+/g, `/bot${REDACTED}`],
];

/** Replaces credentials in a string: the patterns above and every known secret value. */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Short values would blank out ordinary words; settings enforce no length, so skip them.
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of textPatterns) out = out.replace(pattern, replacement);
  return redactUrl(out);
}

/**
 * A deep copy of `value` fit to leave the process: values under redacted keys (tokens, keys,
 * passwords, authorization, cookies, run environments) replaced, strings scrubbed.
 */
export function scrub(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[depth]';
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = redactedKeys.has(key.toLowerCase()) ? REDACTED : scrub(v, secrets, depth + 1);
  }
  return out;
}
