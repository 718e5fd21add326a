import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliFacts, compareVersions, parseCliVersion } from './cli-facts.js';
import { findExecutable } from './find-executable.js';
import type { CliAgentName } from './types.js';

/** What `<bin> --version` did. */
export type VersionProbe =
  | { kind: 'answered'; output: string }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'failed'; detail: string };

const MAX_OUTPUT = 64 * 1024;

/**
 * Runs `<bin> --version` with stdin closed and gives up after `timeoutMs`: a CLI that hangs
 * (waiting for a login, an update prompt) is killed with everything it started, since a
 * grandchild holding its stdout open would otherwise keep the caller waiting too.
 */
export function probeVersion(
  bin: string,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<VersionProbe> {
  return new Promise((resolve) => {
    let output = '';
    let stderr = '';
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    // Its own process group, so the timeout can kill the group.
    const child = spawn(bin, ['--version'], {
      env: { ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const settle = (probe: VersionProbe): void => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(probe);
    };
    const answered = (): VersionProbe =>
      exit?.code === 0
        ? { kind: 'answered', output }
        : {
            kind: 'failed',
            detail: `exited with ${exit?.signal ?? exit?.code ?? 'nothing'}${lastLine(stderr || output) ? `: ${lastLine(stderr || output)}` : ''}`,
          };
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      // It exited but something it started still holds the pipes: what it printed counts.
      settle(exit ? answered() : { kind: 'timeout', timeoutMs });
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (output.length < MAX_OUTPUT) output += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += c;
    });
    child.on('error', (err) => settle({ kind: 'failed', detail: err.message }));
    child.on('exit', (code, signal) => (exit = { code, signal }));
    child.on('close', () => settle(answered()));
  });
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  ).slice(0, 200);
}

/** Where a CLI's credentials come from; names and paths only, never values. */
export type CredentialSource =
  /** Variables runs get: from PATCHBAY_AGENT_CREDENTIALS or PATCHBAY_CHILD_ENV_ALLOWLIST. */
  | { kind: 'env'; names: string[]; from: 'agent-credentials' | 'child-env' }
  /** A login file under the HOME runs get. */
  | { kind: 'login'; path: string }
  /** codex: a model provider of its config.toml that needs no key. */
  | { kind: 'provider'; provider: string; path: string };

export interface CliProblem {
  /** `fail` makes doctor exit non-zero; `warn` is worth fixing but runs may still work. */
  severity: 'warn' | 'fail';
  message: string;
  /** One line: what to do about it. */
  fix: string;
}

export interface CliCheck {
  name: CliAgentName;
  /** `absent`: not installed and not asked for. */
  status: 'ok' | 'warn' | 'fail' | 'absent';
  path: string | null;
  /** The `x.y.z` it reported. */
  version: string | null;
  /** Its `--version` output's first line, as printed. */
  versionLine: string | null;
  /** The version Patchbay is tested with; null: never tested against a real binary. */
  tested: string | null;
  versionStatus: 'tested' | 'older' | 'newer' | 'unknown' | 'untested' | null;
  credentials: CredentialSource[];
  problems: CliProblem[];
}

export interface CliCheckOptions {
  /** PATCHBAY_AGENT_<NAME>_BIN: a name on the runs' PATH, or a path. */
  bin: string;
  /** The setting's name, for fixes. */
  binSetting: string;
  /** The user set the binary (not the default name): missing is then a failure. */
  explicitBin: boolean;
  /** How to install the CLI (the adapter's command). */
  install: string;
  /** The environment every run starts from (PATCHBAY_CHILD_ENV_ALLOWLIST). */
  childEnv: Readonly<Record<string, string>>;
  /** This agent's variables PATCHBAY_AGENT_CREDENTIALS passes (empty with `none`). */
  agentCredentials: Readonly<Record<string, string>>;
  agentCredentialsMode: 'auto' | 'none';
  /** How long `--version` may take (default 10 s: gemini needs 3-4 s on a small machine). */
  versionTimeoutMs?: number;
}

/**
 * Checks one agent CLI as its runs will see it: the binary on the runs' PATH, its version
 * against the tested one, and whether runs will find credentials (variables they get, a
 * login file under their HOME). Each problem comes with a one-line fix.
 */
export async function checkAgentCli(
  name: CliAgentName,
  options: CliCheckOptions,
): Promise<CliCheck> {
  const facts = cliFacts[name];
  const tested = facts.tested?.version ?? null;
  const pinnedInstall = facts.tested
    ? `npm install -g ${facts.tested.package}@${facts.tested.version}`
    : options.install;
  const check: CliCheck = {
    name,
    status: 'ok',
    path: null,
    version: null,
    versionLine: null,
    tested,
    versionStatus: null,
    credentials: [],
    problems: [],
  };
  const found = await findExecutable(options.bin, options.childEnv.PATH);
  if (!found) {
    if (!options.explicitBin) return { ...check, status: 'absent' };
    check.problems.push({
      severity: 'fail',
      message: `${options.binSetting}=${options.bin} is not an executable on the runs' PATH`,
      fix: `point ${options.binSetting} at the installed CLI, or install it: ${pinnedInstall}`,
    });
    return { ...check, status: 'fail' };
  }
  check.path = found;

  const probe = await probeVersion(found, options.childEnv, options.versionTimeoutMs ?? 10_000);
  if (probe.kind === 'timeout') {
    check.problems.push({
      severity: 'fail',
      message: `\`${found} --version\` did not answer within ${probe.timeoutMs / 1000} s`,
      fix: `run \`${found} --version\` as the server's user to see what it waits for`,
    });
  } else if (probe.kind === 'failed') {
    check.problems.push({
      severity: 'fail',
      message: `\`${found} --version\` failed (${probe.detail})`,
      fix: `reinstall it: ${pinnedInstall}`,
    });
  } else {
    check.versionLine = lastLine(probe.output.split('\n').find((l) => l.trim()) ?? '') || null;
    check.version = parseCliVersion(probe.output);
    if (check.version === null) {
      check.versionStatus = 'unknown';
      check.problems.push({
        severity: 'warn',
        message: `\`--version\` printed no version (${JSON.stringify(check.versionLine ?? '')})`,
        fix: `check that ${options.binSetting} is the ${name} CLI: ${pinnedInstall}`,
      });
    } else if (tested === null) {
      check.versionStatus = 'untested';
    } else {
      const order = compareVersions(check.version, tested);
      check.versionStatus = order === 0 ? 'tested' : order < 0 ? 'older' : 'newer';
      if (order !== 0) {
        check.problems.push({
          severity: 'warn',
          message:
            order < 0
              ? `${check.version} is older than the tested ${tested}: flags Patchbay passes may be missing`
              : `${check.version} is newer than the tested ${tested}: its stream format may have changed`,
          fix: pinnedInstall,
        });
      }
    }
  }

  check.credentials = await findCredentials(name, options);
  const needsKey = check.credentials.length === 0;
  const provider = name === 'codex' ? await codexProvider(options.childEnv) : null;
  if (provider?.envKey) {
    // Its own key: the OpenAI ones do not count for it, and only the allow-list passes it.
    check.credentials = [];
    const env = { ...options.childEnv, ...options.agentCredentials };
    if (env[provider.envKey]) {
      check.credentials.push({
        kind: 'env',
        names: [provider.envKey],
        from: provider.envKey in options.agentCredentials ? 'agent-credentials' : 'child-env',
      });
    } else {
      check.problems.push({
        severity: 'warn',
        message: `codex uses the provider \`${provider.name}\` of ${provider.path}, whose key ${provider.envKey} runs do not get`,
        fix: `add ${provider.envKey} to PATCHBAY_CHILD_ENV_ALLOWLIST and set it in the server's environment`,
      });
    }
  } else if (provider) {
    check.credentials = [{ kind: 'provider', provider: provider.name, path: provider.path }];
  } else if (needsKey) {
    check.problems.push({
      severity: 'warn',
      message: 'no credentials for its runs',
      fix:
        options.agentCredentialsMode === 'none'
          ? `PATCHBAY_AGENT_CREDENTIALS=none: give each run ${facts.keyVariable} in its env, or ${facts.login} as the server's user`
          : `set ${facts.keyVariable} in the server's environment (PATCHBAY_AGENT_CREDENTIALS=auto passes it), or ${facts.login} as the server's user`,
    });
  }

  const worst = check.problems.some((p) => p.severity === 'fail')
    ? 'fail'
    : check.problems.length > 0
      ? 'warn'
      : 'ok';
  return { ...check, status: worst };
}

async function findCredentials(
  name: CliAgentName,
  options: CliCheckOptions,
): Promise<CredentialSource[]> {
  const facts = cliFacts[name];
  // The run's environment as the engine builds it: the allow-list, then the credentials.
  const env = { ...options.childEnv, ...options.agentCredentials };
  const sources: CredentialSource[] = [];
  for (const names of facts.credentialEnv) {
    if (!names.every((n) => env[n])) continue;
    sources.push({
      kind: 'env',
      names: [...names],
      from: names.every((n) => n in options.agentCredentials) ? 'agent-credentials' : 'child-env',
    });
  }
  for (const path of facts.loginFiles(options.childEnv)) {
    if (await isReadableFile(path)) sources.push({ kind: 'login', path });
  }
  return sources;
}

async function isReadableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The model provider codex's config.toml selects, when it is not OpenAI's. */
async function codexProvider(
  env: Readonly<Record<string, string>>,
): Promise<{ name: string; envKey: string | null; path: string } | null> {
  const dir = env.CODEX_HOME ?? (env.HOME ? join(env.HOME, '.codex') : undefined);
  if (!dir) return null;
  const path = join(dir, 'config.toml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  const selected = parseCodexProvider(text);
  return selected ? { ...selected, path } : null;
}

/**
 * The provider a codex config.toml selects at its top level (`model_provider = "…"`) and the
 * `env_key` of its `[model_providers.<name>]` table; null for OpenAI's own. A reading of the
 * two keys that matter, not a TOML parser: profiles and inline tables are not looked at.
 */
export function parseCodexProvider(toml: string): { name: string; envKey: string | null } | null {
  const value = (line: string, key: string): string | undefined =>
    new RegExp(`^${key}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(line)?.slice(1).find(Boolean);
  let table = '';
  let name: string | undefined;
  const envKeys = new Map<string, string>();
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      table = header[1]!.trim().replace(/"/g, '');
      continue;
    }
    if (table === '') name ??= value(line, 'model_provider');
    const provider = /^model_providers\.(.+)$/.exec(table)?.[1];
    const envKey = provider ? value(line, 'env_key') : undefined;
    if (provider && envKey) envKeys.set(provider, envKey);
  }
  if (!name || name === 'openai') return null;
  return { name, envKey: envKeys.get(name) ?? null };
}
