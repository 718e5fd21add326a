/**
 * Which provider and model a call uses. From the most specific to the least: the request, the
 * repository's settings (`PATCH /v1/repos/:id`), its `.patchbay.json` (`llm`), the server's
 * settings (PATCHBAY_LLM_PROVIDER / PATCHBAY_LLM_MODEL), the provider's default model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LlmRepoSettings, PatchbayError, type LlmProviderName } from '../contracts/index.js';
import {
  defaultProvider,
  endpointOf,
  providerAdapters,
  type LlmConfig,
} from './providers/registry.js';
import type { ProviderEndpoint } from './providers/provider.js';

export const REPO_FILE = '.patchbay.json';

/** The `llm` entry of a repository's `.patchbay.json`; undefined when there is none. */
export async function readRepoLlmFile(root: string): Promise<LlmRepoSettings | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, REPO_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The optimizer reports a broken file (OPTIMIZER_CONFIG_INVALID); model calls ignore it.
    return undefined;
  }
  const entry = (parsed as { llm?: unknown } | null)?.llm;
  if (entry === undefined) return undefined;
  const checked = LlmRepoSettings.safeParse(entry);
  if (!checked.success) {
    throw new PatchbayError(
      'VALIDATION_FAILED',
      `${REPO_FILE}: llm is invalid: ${checked.error.issues.map((i) => `${i.path.join('.') || 'llm'}: ${i.message}`).join('; ')}`,
      { source: REPO_FILE },
    );
  }
  return checked.data;
}

export interface SelectionLayers {
  request?: { provider?: LlmProviderName | undefined; model?: string | undefined };
  /** The repository's settings (the store). */
  repo?: LlmRepoSettings | null | undefined;
  /** The repository's `.patchbay.json`. */
  repoFile?: LlmRepoSettings | undefined;
}

export interface Selection {
  provider: LlmProviderName;
  model: string;
  endpoint: ProviderEndpoint;
}

/**
 * Provider: the first layer that names one. Model: the first layer that names one for that
 * provider (a layer naming another provider does not lend its model).
 *
 * @throws PatchbayError LLM_NOT_CONFIGURED when the provider has no key (or base URL) or no
 *   model can be chosen.
 */
export function resolveSelection(config: LlmConfig, layers: SelectionLayers = {}): Selection {
  const fallback = { provider: defaultProvider(config), model: config.llmModel };
  const ordered = [layers.request, layers.repo ?? undefined, layers.repoFile, fallback];
  const provider = ordered.find((l) => l?.provider !== undefined)?.provider;
  if (provider === undefined) {
    throw new PatchbayError(
      'LLM_NOT_CONFIGURED',
      'no model provider is configured: set PATCHBAY_OPENAI_API_KEY, PATCHBAY_ANTHROPIC_API_KEY, PATCHBAY_GEMINI_API_KEY or PATCHBAY_LLM_BASE_URL (see docs/llm.md)',
    );
  }
  const endpoint = endpointOf(config, provider);
  if (endpoint === undefined) {
    throw new PatchbayError(
      'LLM_NOT_CONFIGURED',
      provider === 'openai-compatible'
        ? 'provider openai-compatible needs PATCHBAY_LLM_BASE_URL'
        : `provider ${provider} has no API key (PATCHBAY_${provider.toUpperCase()}_API_KEY)`,
      { provider },
    );
  }
  const model =
    ordered.find(
      (l) => l?.model !== undefined && (l.provider === undefined || l.provider === provider),
    )?.model ?? providerAdapters[provider].defaultModel;
  if (model === undefined) {
    throw new PatchbayError(
      'LLM_NOT_CONFIGURED',
      `provider ${provider} has no default model: set PATCHBAY_LLM_MODEL or the repository's llm.model`,
      { provider },
    );
  }
  return { provider, model, endpoint };
}

/** What `createLlmClient` needs to read a repository's choice (the store's repos). */
export interface RepoLookup {
  get(id: string): Promise<{ path: string; llm?: LlmRepoSettings | null } | undefined>;
}

/**
 * The repository layers of a call made for `repoId`: its settings from the store and the
 * `llm` entry of its `.patchbay.json`. An unknown repository adds nothing.
 */
export function repoLayersFrom(repos: RepoLookup) {
  return async (repoId: string): Promise<Omit<SelectionLayers, 'request'>> => {
    const repo = await repos.get(repoId);
    if (!repo) return {};
    return { repo: repo.llm ?? null, repoFile: await readRepoLlmFile(repo.path) };
  };
}
