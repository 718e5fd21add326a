/**
 * The contract suite's shared pieces: where the pinned real CLIs are, a HOME of their own per
 * test, and `patchbay serve` started the way a user starts it (the e2e helpers). A CLI that is
 * not installed skips its tests with a loud message, and fails them with CI=true.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));

export type RealCli = 'claude' | 'codex' | 'gemini';

const PACKAGES: Record<RealCli, string> = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  gemini: '@google/gemini-cli',
};

/** The version this suite pins for `cli` (test/agents-real/package.json). */
export function pinnedVersion(cli: RealCli): string {
  const pkg = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return pkg.dependencies[PACKAGES[cli]]!;
}

/**
 * The pinned CLI's executable, or undefined when it is not installed (a warning outside CI;
 * with CI=true, an error: `npm run test:agents-real` installs them).
 */
export function realCliBin(cli: RealCli): string | undefined {
  const bin = join(HERE, 'node_modules', '.bin', cli);
  if (existsSync(bin)) return bin;
  const message = `agents-real: ${PACKAGES[cli]}@${pinnedVersion(cli)} is not installed in ${HERE}; run \`npm run test:agents-real\` from the repository root`;
  if (process.env.CI === 'true') throw new Error(message);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n\n`);
  return undefined;
}

/** A fresh HOME (and XDG dirs inside it) for one test: no login, no settings of the machine's. */
export function freshHome(prefix = 'patchbay-agents-real-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  for (const dir of ['.config', '.cache', '.local/share', '.local/state']) {
    mkdirSync(join(home, dir), { recursive: true });
  }
  return home;
}
