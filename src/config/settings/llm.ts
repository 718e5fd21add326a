/**
 * Model access (src/llm): which provider and model a call uses when nothing more specific
 * (a repository's override, the request) names one, each provider's key and base URL, and how
 * hard a call tries. Keys are secrets: redacted in logs, `patchbay doctor` and error messages.
 */
import { z } from 'zod';
import { LlmProviderName } from '../../contracts/index.js';
import { durationMs, setting } from './spec.js';

const baseUrl = z.url({ protocol: /^https?$/ }).optional();

export const llmSettings = {
  llmProvider: setting({
    key: 'llmProvider',
    env: 'PATCHBAY_LLM_PROVIDER',
    schema: LlmProviderName.optional(),
    defaultText:
      '(unset: the first provider with a key, in the order openai, anthropic, gemini, openai-compatible)',
    description:
      'Provider of model calls that name none: `openai`, `anthropic`, `gemini` or `openai-compatible` (Ollama, vLLM, LM Studio… at PATCHBAY_LLM_BASE_URL). A repository may override it (`llm.provider` in its settings or `.patchbay.json`).',
  }),
  llmModel: setting({
    key: 'llmModel',
    env: 'PATCHBAY_LLM_MODEL',
    schema: z.string().min(1).optional(),
    defaultText: "(unset: the provider's default, see docs/llm.md)",
    description:
      'Model of calls that name none, as the provider spells it (`gpt-5-mini`, `claude-sonnet-4-5`, `gemini-2.5-flash`, `qwen2.5-coder:7b`). A repository may override it (`llm.model`).',
  }),
  openaiApiKey: setting({
    key: 'openaiApiKey',
    env: 'PATCHBAY_OPENAI_API_KEY',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: OpenAI is not configured)',
    description: 'API key of OpenAI (Chat Completions).',
    secret: true,
  }),
  openaiBaseUrl: setting({
    key: 'openaiBaseUrl',
    env: 'PATCHBAY_OPENAI_BASE_URL',
    schema: baseUrl,
    defaultText: 'https://api.openai.com/v1',
    description: 'Base URL of the OpenAI API (a proxy or gateway speaking the same API).',
  }),
  anthropicApiKey: setting({
    key: 'anthropicApiKey',
    env: 'PATCHBAY_ANTHROPIC_API_KEY',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: Anthropic is not configured)',
    description: 'API key of Anthropic (Messages API).',
    secret: true,
  }),
  anthropicBaseUrl: setting({
    key: 'anthropicBaseUrl',
    env: 'PATCHBAY_ANTHROPIC_BASE_URL',
    schema: baseUrl,
    defaultText: 'https://api.anthropic.com/v1',
    description: 'Base URL of the Anthropic API.',
  }),
  geminiApiKey: setting({
    key: 'geminiApiKey',
    env: 'PATCHBAY_GEMINI_API_KEY',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: Gemini is not configured)',
    description: 'API key of Google Gemini (Generative Language API).',
    secret: true,
  }),
  geminiBaseUrl: setting({
    key: 'geminiBaseUrl',
    env: 'PATCHBAY_GEMINI_BASE_URL',
    schema: baseUrl,
    defaultText: 'https://generativelanguage.googleapis.com/v1beta',
    description: 'Base URL of the Gemini API.',
  }),
  llmBaseUrl: setting({
    key: 'llmBaseUrl',
    env: 'PATCHBAY_LLM_BASE_URL',
    schema: baseUrl,
    defaultText: '(unset: no OpenAI-compatible server)',
    description:
      'Base URL of an OpenAI-compatible server, up to and including `/v1`: Ollama `http://127.0.0.1:11434/v1`, LM Studio `http://127.0.0.1:1234/v1`, vLLM `http://127.0.0.1:8000/v1`. Setting it configures the `openai-compatible` provider.',
  }),
  llmApiKey: setting({
    key: 'llmApiKey',
    env: 'PATCHBAY_LLM_API_KEY',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: no Authorization header)',
    description:
      'Bearer key of the OpenAI-compatible server, when it wants one (vLLM `--api-key`).',
    secret: true,
  }),
  llmMaxRetries: setting({
    key: 'llmMaxRetries',
    env: 'PATCHBAY_LLM_MAX_RETRIES',
    schema: z.coerce.number().int().min(0).max(10).default(3),
    defaultText: '3',
    description:
      'Retries of a model call after a rate limit (429), an overload (5xx, 529) or a dropped connection, with exponential backoff (honouring `retry-after`). Other errors are not retried.',
  }),
  llmMaxRetryDelayMs: setting({
    key: 'llmMaxRetryDelayMs',
    env: 'PATCHBAY_LLM_MAX_RETRY_DELAY_MS',
    schema: durationMs.default(60_000),
    defaultText: '60000',
    description:
      'The longest wait before a retry. A provider asking (`retry-after`) for longer ends the call at once with LLM_RATE_LIMITED and its `retryAfterMs`.',
  }),
  llmTimeoutMs: setting({
    key: 'llmTimeoutMs',
    env: 'PATCHBAY_LLM_TIMEOUT_MS',
    schema: durationMs.default(300_000),
    defaultText: '300000 (5 min)',
    description: 'Time limit of one model call (one try), streaming included.',
  }),
};
