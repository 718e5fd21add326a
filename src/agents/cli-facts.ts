import { join } from 'node:path';
import type { CliAgentName } from './types.js';

/**
 * What Patchbay knows about each agent CLI from outside its adapter: the version the real-CLI
 * suite runs (test/agents-real/package.json pins it; a test keeps the two equal) and where the
 * CLI finds its credentials. `patchbay doctor` reads this table; nothing here runs a CLI.
 *
 * The variable and file names come from each CLI's documentation and, for the pinned
 * versions, its own code: claude reads `$CLAUDE_CONFIG_DIR/.credentials.json` (else
 * `~/.claude/`), codex `$CODEX_HOME/auth.json` (else `~/.codex/`), gemini
 * `~/.gemini/oauth_creds.json` and in headless mode picks its auth type from GEMINI_API_KEY,
 * GOOGLE_GENAI_USE_VERTEXAI (with GOOGLE_API_KEY or a project and location) or
 * GOOGLE_GEMINI_BASE_URL; cursor-agent keeps its login in `~/.config/cursor/auth.json`.
 */
export interface CliFacts {
  /** The npm package the real-CLI suite installs and its pinned version; null: not on npm. */
  readonly tested: { readonly package: string; readonly version: string } | null;
  /**
   * Ways the CLI authenticates from its environment, any one of which will do: each is the
   * list of variables that must all be set (Vertex AI needs a switch and a project, …).
   */
  readonly credentialEnv: readonly (readonly string[])[];
  /** The variable a fix names first: the plain API key. */
  readonly keyVariable: string;
  /** Its login files, absolute, under the HOME (and config-dir variables) a run gets. */
  loginFiles(env: Readonly<Record<string, string>>): string[];
  /** The command that logs it in, for a fix. */
  readonly login: string;
}

/** `$VAR` when the run gets it, else `$HOME/<fallback>`; undefined without either. */
function dirOf(
  env: Readonly<Record<string, string>>,
  variable: string | null,
  fallback: string,
): string | undefined {
  const set = variable ? env[variable] : undefined;
  if (set) return set;
  return env.HOME ? join(env.HOME, fallback) : undefined;
}

const defined = (paths: (string | undefined)[]): string[] =>
  paths.filter((p): p is string => p !== undefined);

export const cliFacts: Record<CliAgentName, CliFacts> = {
  claude: {
    tested: { package: '@anthropic-ai/claude-code', version: '2.1.332' },
    credentialEnv: [
      ['ANTHROPIC_API_KEY'],
      ['ANTHROPIC_AUTH_TOKEN'],
      ['CLAUDE_CODE_OAUTH_TOKEN'],
      // Cloud providers: their own credentials (AWS, Google ADC, Azure) follow their SDKs.
      ['CLAUDE_CODE_USE_BEDROCK'],
      ['CLAUDE_CODE_USE_VERTEX'],
      ['CLAUDE_CODE_USE_FOUNDRY'],
    ],
    keyVariable: 'ANTHROPIC_API_KEY',
    loginFiles: (env) => {
      const dir = dirOf(env, 'CLAUDE_CONFIG_DIR', '.claude');
      return defined([dir && join(dir, '.credentials.json')]);
    },
    login: 'run `claude` once and /login',
  },
  codex: {
    tested: { package: '@openai/codex', version: '0.171.0' },
    credentialEnv: [['OPENAI_API_KEY'], ['CODEX_API_KEY']],
    keyVariable: 'OPENAI_API_KEY',
    loginFiles: (env) => {
      const dir = dirOf(env, 'CODEX_HOME', '.codex');
      return defined([dir && join(dir, 'auth.json')]);
    },
    login: 'run `codex login`',
  },
  gemini: {
    tested: { package: '@google/gemini-cli', version: '0.61.0' },
    credentialEnv: [
      ['GEMINI_API_KEY'],
      ['GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_API_KEY'],
      ['GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION'],
      ['GOOGLE_GEMINI_BASE_URL'],
    ],
    keyVariable: 'GEMINI_API_KEY',
    loginFiles: (env) => {
      const dir = dirOf(env, null, '.gemini');
      return defined([dir && join(dir, 'oauth_creds.json')]);
    },
    login: 'run `gemini` once and sign in with Google',
  },
  cursor: {
    // Not on npm (its own installer); the fake follows the documented stream-json format.
    tested: null,
    credentialEnv: [['CURSOR_API_KEY'], ['CURSOR_AUTH_TOKEN']],
    keyVariable: 'CURSOR_API_KEY',
    loginFiles: (env) => {
      const config = dirOf(env, 'XDG_CONFIG_HOME', '.config');
      return defined([
        env.CURSOR_CONFIG_DIR && join(env.CURSOR_CONFIG_DIR, 'auth.json'),
        config && join(config, 'cursor', 'auth.json'),
        dirOf(env, null, join('.cursor', 'auth.json')),
      ]);
    },
    login: 'run `cursor-agent login`',
  },
};

const VERSION = /(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?/;

/**
 * The version in a CLI's `--version` output: the first `x.y.z` in it, whatever surrounds it.
 * @example parseCliVersion('2.1.332 (Claude Code)') // '2.1.332'
 * @example parseCliVersion('codex-cli 0.171.0') // '0.171.0'
 */
export function parseCliVersion(output: string): string | null {
  return VERSION.exec(output)?.[0] ?? null;
}

/**
 * Orders two `x.y.z[-pre]` versions: negative when `a` is older. A pre-release comes before
 * its release; two pre-releases of one version compare as text.
 */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION.exec(a);
  const pb = VERSION.exec(b);
  if (!pa || !pb) throw new Error(`not a version: ${pa ? b : a}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  const [preA, preB] = [pa[4], pb[4]];
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return preA < preB ? -1 : 1;
}
