/**
 * What a call costs, from @pydantic/genai-prices: a maintained price table bundled with the
 * package (no network), with cache-read and cache-write prices and long-context tiers (a
 * tier prices the whole call once its input passes the threshold). The table (a few MB) loads
 * with the first price asked, not with the server.
 */
import type { ModelPrice, TieredPrices } from '@pydantic/genai-prices';
import type { LlmModelPrices } from '../contracts/index.js';
import type { LlmUsage } from './types.js';

const priceTable = () => import('@pydantic/genai-prices');

/**
 * USD of one call, or null when the table does not know the model. `usage.input` is every
 * input token (cache reads and writes included), as the table expects.
 *
 * @example
 *   priceOf('anthropic', 'claude-sonnet-4-5', { input: 1000, output: 100, cacheRead: 0,
 *     cacheWrite: 0, reasoning: 0, raw: null }) // 0.0045
 */
export async function priceOf(
  priceTableId: string | undefined,
  model: string,
  usage: LlmUsage,
): Promise<number | null> {
  if (priceTableId === undefined) return null;
  const { calcPrice } = await priceTable();
  try {
    const result = calcPrice(
      {
        input_tokens: usage.input,
        output_tokens: usage.output,
        cache_read_tokens: usage.cacheRead,
        cache_write_tokens: usage.cacheWrite,
      },
      model,
      { providerId: priceTableId },
    );
    return result === null ? null : result.total_price;
  } catch {
    // Inconsistent counts (cache tokens above the input) or a table entry the library rejects.
    return null;
  }
}

const base = (p: ModelPrice[string]): number | null =>
  p === undefined ? null : typeof p === 'number' ? p : (p as TieredPrices).base;

function atTier(p: ModelPrice[string], start: number): number | null {
  if (p === undefined) return null;
  if (typeof p === 'number') return p;
  const tiers = (p as TieredPrices).tiers.filter((t) => t.start <= start);
  return tiers.length === 0 ? p.base : tiers.at(-1)!.price;
}

/** A model of the table: its name, context window and prices (per million tokens). */
export interface KnownModel {
  id: string;
  name: string | null;
  contextWindow: number | null;
  prices: LlmModelPrices | null;
}

function pricesOf(price: ModelPrice): LlmModelPrices {
  const starts = new Set<number>();
  for (const p of Object.values(price)) {
    if (p !== undefined && typeof p !== 'number') for (const t of p.tiers) starts.add(t.start);
  }
  return {
    input: base(price.input_mtok),
    output: base(price.output_mtok),
    cacheRead: base(price.cache_read_mtok),
    cacheWrite: base(price.cache_write_mtok),
    tiers: [...starts]
      .sort((a, b) => a - b)
      .map((start) => ({
        fromInputTokens: start,
        input: atTier(price.input_mtok, start),
        output: atTier(price.output_mtok, start),
        cacheRead: atTier(price.cache_read_mtok, start),
        cacheWrite: atTier(price.cache_write_mtok, start),
      })),
  };
}

/** What the table says about `model` of a provider (matching as the table does). */
export async function knownModel(
  priceTableId: string | undefined,
  model: string,
): Promise<KnownModel> {
  const unknown: KnownModel = { id: model, name: null, contextWindow: null, prices: null };
  if (priceTableId === undefined) return unknown;
  const { calcPrice } = await priceTable();
  try {
    const result = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, {
      providerId: priceTableId,
    });
    if (result === null) return unknown;
    return {
      id: model,
      name: result.model.name ?? null,
      contextWindow: result.model.context_window ?? null,
      prices: pricesOf(result.model_price),
    };
  } catch {
    return unknown;
  }
}

/** The current (not deprecated) models the table knows for a provider. */
export async function knownModels(priceTableId: string | undefined): Promise<KnownModel[]> {
  if (priceTableId === undefined) return [];
  const { findProvider } = await priceTable();
  const provider = findProvider({ providerId: priceTableId });
  return Promise.all(
    (provider?.models ?? [])
      .filter((m) => m.deprecated !== true)
      .map((m) => knownModel(priceTableId, m.id)),
  );
}
