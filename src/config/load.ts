import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PatchbayError } from '../contracts/index.js';
import { settings, type ResolvedConfig, type SettingKey } from './schema.js';
import { agentCredentialEnv } from './settings/execution.js';
import { packageRoot } from './version.js';

export const CONFIG_FILE_NAME = 'patchbay.config.json';
export const CONFIG_PATH_ENV = 'PATCHBAY_CONFIG';

export interface LoadConfigOptions {
  /** Environment to read; defaults to the process environment. */
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags, keyed like the config file. They win over everything. */
  flags?: Partial<Record<SettingKey, unknown>>;
  /** Explicit config file; otherwise PATCHBAY_CONFIG, then ./patchbay.config.json if present. */
  configFile?: string;
  cwd?: string;
  /**
   * Read no config file at all, only the env: for a child working in a directory that is not
   * the operator's (the `llm` agent's run directory), whose files must not become settings.
   */
  envOnly?: boolean;
  /** Values under the environment: what a parent handed over other than in the env. */
  envDefaults?: Record<string, string>;
}

export interface ConfigProblem {
  /** The setting as the user wrote it: env name, file key or flag. */
  source: string;
  message: string;
}

function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

function readConfigFile(path: string, problems: ConfigProblem[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push({ source: path, message: `cannot read config file: ${(err as Error).message}` });
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push({ source: path, message: 'config file must contain one JSON object' });
      return {};
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    problems.push({
      source: path,
      message: `config file is not valid JSON: ${(err as Error).message}`,
    });
    return {};
  }
}

/**
 * Resolve the configuration once: defaults < config file < environment < CLI flags.
 * Every problem is collected and reported together in one CONFIG_INVALID error.
 *
 * @example
 *   const config = loadConfig({ flags: { port: 8080 } });
 */
export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  // config/ is the one module allowed to read the process environment.
  const env = { ...options.envDefaults, ...(options.env ?? process.env) };
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const problems: ConfigProblem[] = [];

  let file: Record<string, unknown> = {};
  const explicit = options.configFile ?? env[CONFIG_PATH_ENV];
  const filePath = explicit ? resolve(cwd, explicit) : join(cwd, CONFIG_FILE_NAME);
  if (!options.envOnly && (explicit || existsSync(filePath))) {
    file = readConfigFile(filePath, problems);
  }

  for (const key of Object.keys(file)) {
    if (!Object.hasOwn(settings, key) && key !== '$schema') {
      problems.push({ source: `${filePath}: ${key}`, message: 'unknown setting' });
    }
  }

  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(settings)) {
    const flagValue = flags[key as SettingKey];
    const envValue = env[spec.env];
    let raw: unknown;
    let source: string;
    if (flagValue !== undefined) {
      raw = flagValue;
      source = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    } else if (envValue !== undefined && envValue !== '') {
      raw = envValue;
      source = spec.env;
    } else {
      raw = file[key];
      source = `${CONFIG_FILE_NAME}: ${key}`;
    }
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      const message = parsed.error.issues.map((i) => i.message).join('; ');
      // A secret's value is never echoed (the message reaches terminals and logs).
      const got = spec.secret
        ? 'the value is not shown: it is a secret'
        : `got ${JSON.stringify(raw)}`;
      problems.push({ source, message: `${message} (${got})` });
    }
  }

  if (problems.length > 0) {
    const summary = problems.map((p) => `  ${p.source}: ${p.message}`).join('\n');
    throw new PatchbayError('CONFIG_INVALID', `invalid configuration:\n${summary}`, { problems });
  }

  const dataDir = resolve(cwd, expandHome(values.dataDir as string));
  const databaseUrl = (values.databaseUrl as string | undefined) ?? join(dataDir, 'patchbay.db');
  const webDir = resolve(
    cwd,
    expandHome((values.webDir as string | undefined) ?? join(packageRoot(), 'dist', 'web')),
  );
  const roots = (values.workspaceRoots as string[] | undefined) ?? [join(dataDir, 'workspaces')];
  const allowlist = values.childEnvAllowlist as string[];
  const childEnvBase: Record<string, string> = {};
  for (const name of allowlist) {
    const v = env[name];
    if (v !== undefined) childEnvBase[name] = v;
  }

  // Captured here, the one place that reads the environment; empty with `none`.
  const agentCredentialValues = Object.fromEntries(
    Object.entries(agentCredentialEnv).map(([agent, names]) => [
      agent,
      values.agentCredentials === 'none'
        ? {}
        : Object.fromEntries(
            names.flatMap((name) => (env[name] ? [[name, env[name]] as const] : [])),
          ),
    ]),
  ) as ResolvedConfig['agentCredentialValues'];

  return {
    ...(values as Omit<
      ResolvedConfig,
      | 'dataDir'
      | 'databaseUrl'
      | 'workspaceRoots'
      | 'childEnvBase'
      | 'agentCredentialValues'
      | 'webDir'
    >),
    webDir,
    agentCredentialValues,
    dataDir,
    databaseUrl,
    workspaceRoots: roots.map((r) => {
      const expanded = expandHome(r);
      return isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
    }),
    childEnvBase,
  };
}

/** True when running under CI (`CI=true`); used by the CLI's doctor and test tooling. */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Whether the CLI may colour its output, from the conventions every terminal tool shares:
 * `NO_COLOR` (any value) turns colour off, `FORCE_COLOR` (anything but 0/false) turns it on
 * even into a pipe, and otherwise colour follows whether the stream is a terminal (`auto`).
 * NO_COLOR wins when both are set. See https://no-color.org.
 */
export function colorPreference(env: NodeJS.ProcessEnv = process.env): 'never' | 'always' | 'auto' {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 'never';
  const force = env.FORCE_COLOR;
  if (force !== undefined) return ['0', 'false'].includes(force.toLowerCase()) ? 'never' : 'always';
  return 'auto';
}

/**
 * The values of every secret setting, for scrubbing what leaves the process (error reports).
 * URL settings contribute their password only: the rest of a URL is not secret and an error
 * naming the host is worth keeping.
 */
export function secretValues(config: ResolvedConfig): string[] {
  // Agents' provider credentials are secrets too, though no setting holds them.
  const out: string[] = Object.values(config.agentCredentialValues).flatMap(Object.values);
  for (const [key, spec] of Object.entries(settings)) {
    if (!spec.secret) continue;
    const value = (config as unknown as Record<string, unknown>)[key];
    if (spec.secretsOf) {
      out.push(...(spec.secretsOf as (v: unknown) => string[])(value));
      continue;
    }
    const values =
      typeof value === 'string'
        ? [value]
        : Array.isArray(value)
          ? value.map(String)
          : value && typeof value === 'object'
            ? Object.values(value).map(String)
            : [];
    for (const v of values) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
        try {
          const url = new URL(v);
          if (url.password) out.push(decodeURIComponent(url.password));
          if (key === 'sentryDsn' && url.username) out.push(url.username);
        } catch {
          out.push(v);
        }
      } else if (key !== 'databaseUrl') out.push(v); // a SQLite path is no secret
    }
  }
  return [...new Set(out.filter((v) => v.length > 0))];
}
