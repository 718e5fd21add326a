import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GateName, type ValidateMode } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { detectRepo } from './detect.js';
import { readPatchbayFile } from './detect/overrides.js';

/** One check of a repository, as the optimizer's detection (or `.patchbay.json`) names it. */
export interface RepoGate {
  gate: GateName;
  command: string;
}

export interface RepoGates {
  /** In the order they run: install, build, typecheck, lint, test. */
  gates: RepoGate[];
  /** `validate` of `.patchbay.json`: the repository's defaults for its runs. */
  defaults: { mode?: ValidateMode; maxFixRounds?: number };
}

/**
 * The checks a repository run is validated with: the optimizer's detection (package.json
 * scripts, CI workflows, conventions; `.patchbay.json` wins), without the benchmark. A
 * repository with no package.json has nothing to install unless `.patchbay.json` says how.
 *
 * Throws what detection throws for a broken package.json or `.patchbay.json`
 * (OPTIMIZER_PACKAGE_JSON_INVALID, OPTIMIZER_CONFIG_INVALID).
 *
 * @example
 *   const { gates } = await detectGates('/data/worktrees/run_1');
 *   gates; // [{ gate: 'install', command: 'npm install' }, { gate: 'test', command: 'npm test' }]
 */
export async function detectGates(root: string, log?: Logger): Promise<RepoGates> {
  const detected = await detectRepo(root, log ? { log } : {});
  const file = await readPatchbayFile(root);
  const hasManifest = existsSync(join(root, 'package.json'));
  const gates: RepoGate[] = [];
  for (const gate of GateName.options) {
    const command = detected.commands[gate];
    if (!command) continue;
    if (gate === 'install' && !hasManifest && command.source !== 'override') continue;
    gates.push({ gate, command: command.command });
  }
  const validate = file?.overrides.validate;
  return {
    gates,
    defaults: {
      ...(validate?.mode ? { mode: validate.mode } : {}),
      ...(validate?.maxFixRounds ? { maxFixRounds: validate.maxFixRounds } : {}),
    },
  };
}
