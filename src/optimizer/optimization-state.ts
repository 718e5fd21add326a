/**
 * An optimization's shared state: its settings with defaults applied, and `<runDir>/optimize.json`,
 * which every stage reads first.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ulid } from '../store/index.js';
import { writeJson } from './stage-files.js';

/** Settings with their defaults applied; `minSpeedup` a fraction here, not a percent. */
export interface ResolvedOptimizeSettings {
  bench?: string;
  test?: string;
  maxCandidates: number;
  maxProposals: number;
  maxMinutes: number;
  minSpeedup: number;
  samples: number;
  alpha: number;
  /** Propose safe refactors too (confidence `low`). */
  includeSafeRefactors: boolean;
  /** Let the configured model find opportunities and write their patches too. */
  llm: boolean;
}

/** What every stage reads first: `<runDir>/optimize.json`, written when the optimization starts. */
export interface OptimizeState {
  id: string;
  source: string;
  ref: string | null;
  settings: ResolvedOptimizeSettings;
  /** Epoch ms: the budget of minutes and the progress clock count from here. */
  startedAt: number;
}

export function resolveSettings(
  options: Partial<Omit<ResolvedOptimizeSettings, 'bench' | 'test'>> & {
    bench?: string | undefined;
    test?: string | undefined;
  },
): ResolvedOptimizeSettings {
  return {
    ...(options.bench ? { bench: options.bench } : {}),
    ...(options.test ? { test: options.test } : {}),
    maxCandidates: options.maxCandidates ?? 10,
    maxProposals: options.maxProposals ?? 5,
    maxMinutes: options.maxMinutes ?? 60,
    minSpeedup: options.minSpeedup ?? 0.03,
    samples: options.samples ?? 20,
    alpha: options.alpha ?? 0.05,
    includeSafeRefactors: options.includeSafeRefactors ?? false,
    llm: options.llm ?? false,
  };
}

/** Writes `<runDir>/optimize.json`: what the stages share. Returns the optimization id. */
export async function startOptimization(
  runDir: string,
  init: { id?: string; source: string; ref?: string; settings: ResolvedOptimizeSettings },
): Promise<string> {
  await mkdir(join(runDir, 'artifacts'), { recursive: true });
  const state: OptimizeState = {
    id: init.id ?? `opt_${ulid()}`,
    source: init.source,
    ref: init.ref ?? null,
    settings: init.settings,
    startedAt: Date.now(),
  };
  await writeJson(join(runDir, 'optimize.json'), state);
  return state.id;
}
