import { join } from 'node:path';
import { readPackageJson } from './detect/package-json.js';

/**
 * A benchmark command made of independent processes run one after the other can be narrowed,
 * per candidate, to the parts that run the candidate's change: the other parts measure nothing
 * the change can move, and each costs one process per sample on both sides. The shapes:
 *
 * - `node a.js && node b.js`: a benchmark folder's files, chained by detection;
 * - `npm run bench:a && npm run bench:b`: a family of `bench:*` scripts;
 * - `npm run benchmark` whose script is itself such a chain of `node` files (expanded: `node`
 *   is the same program whether npm starts it or not);
 * - any of these behind one leading `cd <dir> &&` (a benchmark folder's own script).
 *
 * Anything else (pipes, redirections, subshells, `||`, a tool that is not one process per
 * benchmark) is not split, and the whole command is timed as before.
 */
export interface BenchParts {
  /** `cd <dir>`, run before every narrowed command, when the command began with one. */
  prefix?: string;
  parts: string[];
}

/** The variable that tells the coverage hook which part a process belongs to. */
export const PART_ENV = 'PATCHBAY_BENCH_PART';

/** One part: a process that runs a benchmark, with plain arguments only. */
const PART =
  /^(?:node|tsx|npx|npm run(?:-script)?|pnpm(?: run)?|yarn(?: run)?|bun run)\s+[^\s;&|<>()`$'"\\]+(?:\s+[^\s;&|<>()`$'"\\]+)*$/;
const CD = /^cd\s+[^\s;&|<>()`$'"\\]+$/;
/** A package script run by its manager: `npm run <name>` and the others' spellings. */
const SCRIPT = /^(?:npm run(?:-script)?|pnpm(?: run)?|yarn(?: run)?|bun run)\s+([\w:.-]+)$/;
const NODE_PART = /^node\s/;

function split(command: string): string[] {
  return command.split('&&').map((p) => p.trim());
}

/**
 * The parts of `command` (run in `root`), or undefined when it is not a chain of at least two
 * independent benchmark processes.
 */
export async function benchParts(command: string, root: string): Promise<BenchParts | undefined> {
  let pieces = split(command);
  if (pieces.some((p) => p === '')) return undefined;
  let prefix: string | undefined;
  if (CD.test(pieces[0]!)) {
    prefix = pieces[0]!;
    pieces = pieces.slice(1);
  }
  if (pieces.some((p) => CD.test(p))) return undefined;
  // One script that is a chain of node files: its parts.
  const dir = prefix ? join(root, prefix.replace(/^cd\s+/, '')) : root;
  if (pieces.length === 1) {
    const name = SCRIPT.exec(pieces[0]!)?.[1];
    const script = name
      ? (await readPackageJson(dir).catch(() => undefined))?.scripts[name]
      : undefined;
    if (script === undefined) return undefined;
    const inner = split(script);
    if (!inner.every((p) => NODE_PART.test(p) && PART.test(p))) return undefined;
    pieces = inner;
  }
  if (pieces.length < 2 || !pieces.every((p) => PART.test(p))) return undefined;
  return { ...(prefix ? { prefix } : {}), parts: pieces };
}

/** The command that runs `parts` (all of them by default), optionally marking each one's processes. */
export function partsCommand(
  chain: BenchParts,
  options: { keep?: readonly number[]; mark?: boolean } = {},
): string {
  const keep = options.keep ?? chain.parts.map((_, i) => i);
  const run = keep.map((i) =>
    options.mark ? `${PART_ENV}=${i} ${chain.parts[i]!}` : chain.parts[i]!,
  );
  return [...(chain.prefix ? [chain.prefix] : []), ...run].join(' && ');
}
