import { join } from 'node:path';
import { z } from 'zod';
import {
  CommandKind,
  DetectResult,
  Framework,
  LlmRepoSettings,
  PatchbayError,
  ValidateMode,
  type Evidence,
} from '../../contracts/index.js';
import { readLocatedJsonFile } from './json-lines.js';

export const PATCHBAY_FILE = '.patchbay.json';

export const PackageManagerName = DetectResult.shape.packageManager.shape.name;
export type PackageManagerName = z.infer<typeof PackageManagerName>;

/**
 * What a user may pin for a repository, in `.patchbay.json` at its root or in the repo's
 * settings. A command set to `null` says the repository has none (e.g. no benchmark).
 *
 * @example
 *   { "packageManager": "pnpm@9.12.0", "commands": { "bench": "node bench.js" } }
 */
export const RepoOverrides = z.strictObject({
  $schema: z.string().optional(),
  /** `npm`, `pnpm`, `yarn` or `bun`, optionally `@version` like package.json's field. */
  packageManager: z
    .string()
    .regex(
      /^(npm|pnpm|yarn|bun)(@[^\s@]+)?$/,
      'expected npm, pnpm, yarn or bun, optionally @version',
    )
    .optional(),
  framework: Framework.optional(),
  commands: z.partialRecord(CommandKind, z.string().trim().min(1).nullable()).optional(),
  /** The repository's model provider and model (read by src/llm, not the optimizer). */
  llm: LlmRepoSettings.optional(),
  /**
   * How its agent runs are validated when the request does not say (read by the engine, see
   * docs/validation.md): the mode and, for `fix`, the follow-up turns at most.
   */
  validate: z
    .strictObject({
      mode: ValidateMode.optional(),
      maxFixRounds: z.number().int().min(1).max(10).optional(),
    })
    .optional(),
});
export type RepoOverrides = z.infer<typeof RepoOverrides>;

/** Overrides with, for each one, where it was written (empty for the repo's settings). */
export interface LocatedOverrides {
  readonly overrides: RepoOverrides;
  evidence(...path: string[]): Evidence[];
}

function invalid(source: string, message: string, issues?: unknown): PatchbayError {
  return new PatchbayError(
    'OPTIMIZER_CONFIG_INVALID',
    `${source} is invalid: ${message}`,
    issues === undefined ? { source } : { source, issues },
  );
}

function validate(source: string, value: unknown): RepoOverrides {
  const parsed = RepoOverrides.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw invalid(source, summary, issues);
}

/** Read and validate `.patchbay.json`; undefined when the file does not exist. */
export async function readPatchbayFile(root: string): Promise<LocatedOverrides | undefined> {
  const located = await readLocatedJsonFile(join(root, PATCHBAY_FILE), (message) =>
    invalid(PATCHBAY_FILE, `not valid JSON (${message})`),
  );
  if (!located) return undefined;
  const overrides = validate(PATCHBAY_FILE, located.value);
  return {
    overrides,
    evidence: (...path) => {
      const line = located.lineOf(...path);
      return line === undefined
        ? []
        : [{ file: PATCHBAY_FILE, line, text: located.lineText(line) }];
    },
  };
}

/** Validate overrides handed in by the caller (the repo's settings); they carry no file. */
export function settingsOverrides(value: unknown): LocatedOverrides {
  return { overrides: validate('the repository settings override', value), evidence: () => [] };
}
