/**
 * Stage 1 of the optimizer: how is this repository installed, built, checked, tested and
 * benchmarked? Everything is read from files (package.json, lockfiles, GitHub Actions
 * workflows, framework configs), nothing is run. Each answer carries a confidence and the
 * file and line it rests on, so a user can see why and pin it in `.patchbay.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { z } from 'zod';
import {
  CommandKind,
  PatchbayError,
  type DetectedCommand,
  type DetectResult,
  type Evidence,
} from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { benchFamily, detectBenchSetup } from './detect/bench-setup.js';
import { addWorkspaceCommands, resolveCommands } from './detect/commands.js';
import { detectFramework } from './detect/framework.js';
import {
  readPatchbayFile,
  settingsOverrides,
  type LocatedOverrides,
  type RepoOverrides,
} from './detect/overrides.js';
import { readPackageJson } from './detect/package-json.js';
import {
  detectPackageManager,
  parsePackageManagerField,
  type PackageManagerDetection,
} from './detect/package-manager.js';
import { readWorkflowCommands } from './detect/workflows.js';
import { detectWorkspaces } from './detect/workspaces.js';

export { PATCHBAY_FILE, RepoOverrides } from './detect/overrides.js';

export interface DetectOptions {
  /**
   * The repository's settings: they win over `.patchbay.json`, which wins over detection.
   * Validated like `.patchbay.json` (OPTIMIZER_CONFIG_INVALID when wrong).
   */
  overrides?: z.input<typeof RepoOverrides>;
  log?: Logger;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `.patchbay.json`, then the settings on top: the later source wins key by key. */
function applyPackageManager(
  detected: PackageManagerDetection,
  sources: readonly LocatedOverrides[],
): PackageManagerDetection {
  let result = detected;
  for (const source of sources) {
    const field = parsePackageManagerField(source.overrides.packageManager);
    if (field) {
      result = {
        name: field.name,
        version: field.version,
        confidence: 1,
        evidence: source.evidence('packageManager'),
      };
    }
  }
  return result;
}

/**
 * Detect how the repository at `root` is built and tested.
 *
 * Throws WORKDIR_NOT_FOUND when `root` is not a directory, OPTIMIZER_PACKAGE_JSON_INVALID for
 * a broken package.json and OPTIMIZER_CONFIG_INVALID for a bad `.patchbay.json` or override.
 *
 * @example
 *   const detected = await detectRepo('/src/app', { overrides: { commands: { bench: 'node b.js' } } });
 *   detected.commands.test?.command; // 'pnpm test'
 */
export async function detectRepo(root: string, options: DetectOptions = {}): Promise<DetectResult> {
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) {
    throw new PatchbayError('WORKDIR_NOT_FOUND', `${root} is not a directory`, { root });
  }
  const sources: LocatedOverrides[] = [];
  const fromFile = await readPatchbayFile(root);
  if (fromFile) sources.push(fromFile);
  if (options.overrides !== undefined) sources.push(settingsOverrides(options.overrides));

  const pkg = await readPackageJson(root);
  const packageManager = applyPackageManager(await detectPackageManager(root, pkg), sources);
  const workflows = await readWorkflowCommands(root, options.log);
  const tsconfig: Evidence | undefined = (await isFile(join(root, 'tsconfig.json')))
    ? { file: 'tsconfig.json', line: 1 }
    : undefined;
  const commands = resolveCommands({ pkg, packageManager, workflows, tsconfig });
  const workspaces = await detectWorkspaces(root, pkg, options.log);
  const members = await Promise.all(
    workspaces.map((dir) => readPackageJson(root, `${dir}/package.json`)),
  );
  addWorkspaceCommands(
    commands,
    packageManager.name,
    members.filter((m) => m !== undefined),
  );
  // A `bench:*` family runs whole, not its first member; folders and files come after scripts.
  const family =
    pkg && commands.bench?.source !== 'workflow' && benchFamily(packageManager.name, pkg);
  if (family) commands.bench = family;
  const benchSetup = await detectBenchSetup(root, packageManager.name, commands.bench !== null);
  if (benchSetup.bench) commands.bench = benchSetup.bench;
  if (benchSetup.install && commands.install) {
    commands.install = {
      ...commands.install,
      command: `${commands.install.command} && ${benchSetup.install.command}`,
      evidence: [...commands.install.evidence, ...benchSetup.install.evidence],
    };
  }

  let framework = await detectFramework(root, pkg);
  for (const source of sources) {
    const { framework: name } = source.overrides;
    if (name) framework = { name, confidence: 1, evidence: source.evidence('framework') };
  }
  for (const source of sources) {
    for (const kind of CommandKind.options) {
      const command = source.overrides.commands?.[kind];
      if (command === undefined) continue;
      commands[kind] =
        command === null
          ? null
          : ({
              command,
              confidence: 1,
              source: 'override',
              evidence: source.evidence('commands', kind),
            } satisfies DetectedCommand);
    }
  }

  const overridden = sources.some(
    ({ overrides: o }) =>
      o.packageManager !== undefined ||
      o.framework !== undefined ||
      Object.keys(o.commands ?? {}).length > 0,
  );
  return {
    packageManager,
    framework,
    workspaces,
    ...(benchSetup.packages.length > 0 ? { benchPackages: benchSetup.packages } : {}),
    commands,
    overridden,
  };
}

/**
 * Files the benchmark runs (`node bench/run.js` → bench/run.js), through the package scripts
 * it runs (`npm run bench`, or each workspace package's): what they import is the hot path.
 */
export function benchEntryPoints(root: string, detected: DetectResult): string[] {
  const bench = detected.commands.bench;
  if (!bench) return [];
  // The command, and the package.json scripts it runs (the root's or, in a monorepo, the
  // workspace packages'), each read in its package's directory.
  const sources = [{ dir: '', text: bench.command }];
  // An override naming a root script (`npm run bench`) has no package.json evidence.
  const script = /^(?:npm|pnpm|yarn|bun)(?: run)? ([\w:.-]+)$/.exec(bench.command.trim())?.[1];
  if (script) {
    try {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        scripts?: Record<string, unknown>;
      };
      const body = pkg.scripts?.[script];
      if (typeof body === 'string') sources.push({ dir: '', text: body });
    } catch {
      // no package.json: the command itself is all there is
    }
  }
  for (const e of bench.evidence) {
    // A workspace package's script, as its evidence line shows it: `"bench": "node b.js",`.
    if (!e.file.endsWith('/package.json') || !e.text) continue;
    const body = /^"(?:[^"\\]|\\.)*"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(e.text)?.[1];
    if (body) sources.push({ dir: posix.dirname(e.file), text: JSON.parse(body) as string });
  }
  const files = sources.flatMap(({ dir, text }) =>
    [...text.matchAll(/[\w./-]+\.(?:[cm]?js|[cm]?ts|tsx|jsx)\b/g)].map((m) =>
      posix.join(dir, m[0].replace(/^\.\//, '')),
    ),
  );
  return [...new Set(files)].filter((file) => existsSync(join(root, file)));
}
