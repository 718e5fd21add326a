/**
 * The four providers as the tests drive them: where their scripted server lives, the settings
 * that point Patchbay at it, a streamed answer (text, a tool call, usage with cache and
 * reasoning tokens) with the usage and USD a hand calculation gives, and their error replies.
 */
import type { LlmProviderName } from '../../src/contracts/index.js';
import { messagesErrors, messagesStream } from '../fixtures/llm-servers/anthropic.js';
import { geminiErrors, geminiStream } from '../fixtures/llm-servers/gemini.js';
import { chatErrors, chatStream } from '../fixtures/llm-servers/openai.js';
import type { ScriptedReply } from '../fixtures/llm-servers/server.js';

export const KEYS = {
  openai: 'sk-test-openai-0123456789abcdef',
  anthropic: 'sk-ant-test-0123456789abcdef',
  gemini: 'AIzaTestGemini0123456789abcdef',
  'openai-compatible': 'vllm-test-key-0123456789abcdef',
} as const;

export interface ProviderCase {
  provider: LlmProviderName;
  prefix: string;
  model: string;
  env(baseUrl: string): Record<string, string>;
  /** The streaming request's path, and how the key travelled. */
  path: RegExp;
  keyHeader(headers: Record<string, string | string[] | undefined>): string | undefined;
  answer: ScriptedReply;
  usage: {
    input: number;
    output: number;
    cacheRead: number;
    cacheWrite: number;
    reasoning: number;
  };
  /** The reasoning text the stream carries ('' where the wire format has none). */
  reasoningText: string;
  /** USD by hand from the published per-million prices (null: not priced). */
  usd: number | null;
  usdWorking: string;
  errors: {
    auth(): ScriptedReply;
    rateLimited(seconds: number): ScriptedReply;
    server(): ScriptedReply;
    overloaded(): ScriptedReply;
    contextTooLong(): ScriptedReply;
  };
}

const TEXT = 'I will read the file.';
const TOOL = { name: 'read_file', args: { path: 'src/a.ts', from: 1 } };

export const providerCases: ProviderCase[] = [
  {
    provider: 'openai',
    prefix: '/v1',
    model: 'gpt-5-mini',
    env: (baseUrl) => ({
      PATCHBAY_OPENAI_API_KEY: KEYS.openai,
      PATCHBAY_OPENAI_BASE_URL: baseUrl,
    }),
    path: /^\/v1\/chat\/completions$/,
    keyHeader: (h) => String(h.authorization).replace(/^Bearer /, ''),
    answer: chatStream({
      model: 'gpt-5-mini',
      text: TEXT,
      tool: { id: 'call_1', name: TOOL.name, args: TOOL.args },
      usage: { prompt: 12_000, completion: 500, cached: 10_000, reasoning: 200 },
    }),
    usage: { input: 12_000, output: 500, cacheRead: 10_000, cacheWrite: 0, reasoning: 200 },
    reasoningText: '',
    // gpt-5-mini: input 0.25, cached input 0.025, output 2 USD per million tokens.
    usd: (2_000 * 0.25 + 10_000 * 0.025 + 500 * 2) / 1e6,
    usdWorking: '2000 uncached × 0.25 + 10000 cached × 0.025 + 500 out × 2',
    errors: chatErrors_(),
  },
  {
    provider: 'openai-compatible',
    prefix: '/v1',
    model: 'qwen2.5-coder:7b',
    env: (baseUrl) => ({
      PATCHBAY_LLM_BASE_URL: baseUrl,
      PATCHBAY_LLM_API_KEY: KEYS['openai-compatible'],
      PATCHBAY_LLM_MODEL: 'qwen2.5-coder:7b',
    }),
    path: /^\/v1\/chat\/completions$/,
    keyHeader: (h) => String(h.authorization).replace(/^Bearer /, ''),
    answer: chatStream({
      model: 'qwen2.5-coder:7b',
      text: TEXT,
      tool: { id: 'call_1', name: TOOL.name, args: TOOL.args },
      usage: { prompt: 3_000, completion: 120, cached: 1_000, reasoning: 40 },
    }),
    usage: { input: 3_000, output: 120, cacheRead: 1_000, cacheWrite: 0, reasoning: 40 },
    reasoningText: '',
    usd: null,
    usdWorking: 'a local model: not in the price table',
    errors: chatErrors_(),
  },
  {
    provider: 'anthropic',
    prefix: '/v1',
    model: 'claude-sonnet-4-5',
    env: (baseUrl) => ({
      PATCHBAY_ANTHROPIC_API_KEY: KEYS.anthropic,
      PATCHBAY_ANTHROPIC_BASE_URL: baseUrl,
    }),
    path: /^\/v1\/messages$/,
    keyHeader: (h) => h['x-api-key'] as string | undefined,
    answer: messagesStream({
      model: 'claude-sonnet-4-5',
      thinking: 'The file is small.',
      text: TEXT,
      tool: { id: 'toolu_1', name: TOOL.name, input: TOOL.args },
      // 150k uncached + 50k written + 100k read = 300k input: past the 200k long-context tier.
      usage: { input: 150_000, cacheWrite: 50_000, cacheRead: 100_000, output: 1_000 },
    }),
    usage: { input: 300_000, output: 1_000, cacheRead: 100_000, cacheWrite: 50_000, reasoning: 0 },
    reasoningText: 'The file is small.',
    // claude-sonnet-4-5 above 200k input: input 6, cache write 7.5, cache read 0.6, output 22.5.
    usd: (150_000 * 6 + 50_000 * 7.5 + 100_000 * 0.6 + 1_000 * 22.5) / 1e6,
    usdWorking:
      '>200k tier: 150000 × 6 + 50000 written × 7.5 + 100000 read × 0.6 + 1000 out × 22.5',
    errors: messagesErrors,
  },
  {
    provider: 'gemini',
    prefix: '/v1beta',
    model: 'gemini-2.5-pro',
    env: (baseUrl) => ({
      PATCHBAY_GEMINI_API_KEY: KEYS.gemini,
      PATCHBAY_GEMINI_BASE_URL: baseUrl,
    }),
    path: /^\/v1beta\/models\/gemini-2\.5-pro:streamGenerateContent\?alt=sse$/,
    keyHeader: (h) => h['x-goog-api-key'] as string | undefined,
    answer: geminiStream({
      model: 'gemini-2.5-pro',
      thought: 'Reading first.',
      text: TEXT,
      call: { name: TOOL.name, args: TOOL.args },
      usage: { prompt: 250_000, cached: 50_000, candidates: 1_000, thoughts: 400 },
    }),
    usage: { input: 250_000, output: 1_400, cacheRead: 50_000, cacheWrite: 0, reasoning: 400 },
    reasoningText: 'Reading first.',
    // gemini-2.5-pro above 200k prompt tokens: input 2.5, cached 0.25, output (thinking included) 15.
    usd: (200_000 * 2.5 + 50_000 * 0.25 + 1_400 * 15) / 1e6,
    usdWorking: '>200k tier: 200000 uncached × 2.5 + 50000 cached × 0.25 + 1400 out × 15',
    errors: geminiErrors,
  },
];

function chatErrors_(): ProviderCase['errors'] {
  return {
    auth: () => chatErrors.auth('sk-echoed'),
    rateLimited: chatErrors.rateLimited,
    server: chatErrors.server,
    overloaded: chatErrors.overloaded,
    contextTooLong: chatErrors.contextTooLong,
  };
}

export const TOOL_CALL = TOOL;
export const ANSWER_TEXT = TEXT;
