/**
 * The deployment files as data: `docker-compose.yml` (with the image's `ENV` from the
 * `Dockerfile`) turned into launch specs for real processes on this machine, so the
 * end-to-end test starts the topology the compose file describes rather than a copy of it.
 * No Docker engine runs here; test/tooling/deploy.test.ts lints the same files.
 *
 * Like the other e2e helpers, nothing here imports from src/.
 *
 * @example
 *   const topology = composeTopology({ vars: { PATCHBAY_API_TOKENS: 't', POSTGRES_PASSWORD: 'x' } });
 *   const worker = topology.process('worker');   // replicas 2, args ['worker', …], env
 *   const env = instanceEnv(worker, { port: await freePort(), dataDir: tempDir() });
 *   spawn(process.execPath, [BIN, ...worker.args], { env: { PATH: process.env.PATH, ...env } });
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const DOCKERFILE = join(ROOT, 'Dockerfile');

/** Port `patchbay serve` listens on when PATCHBAY_PORT is not set (src/config/schema.ts). */
const DEFAULT_API_PORT = 7070;

// ---------------------------------------------------------------------------------------
// Compose variable interpolation
// ---------------------------------------------------------------------------------------

/**
 * Compose's variable syntax: `$$` (a literal `$`), `$VAR`, `${VAR}`, `${VAR:-default}` /
 * `${VAR-default}` (default when unset-or-empty / unset), and `${VAR:?message}` /
 * `${VAR?message}` (an error naming the variable, as `docker compose` reports it). Nested
 * substitutions in a default are not supported (the compose file does not use them).
 *
 * @throws Error `required variable VAR is missing a value: message`
 */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  const pattern =
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  return text.replace(
    pattern,
    (
      match: string,
      dollar: string | undefined,
      braced: string | undefined,
      colon: string | undefined,
      op: string | undefined,
      operand: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar) return '$';
      const name = (braced ?? bare)!;
      const value = vars[name];
      const missing = colon ? value === undefined || value === '' : value === undefined;
      if (op === '-') return missing ? (operand ?? '') : value!;
      if (op === '?') {
        if (missing) {
          throw new Error(`required variable ${name} is missing a value: ${operand ?? ''}`);
        }
        return value!;
      }
      return value ?? '';
    },
  );
}

/** Every string in a parsed YAML value interpolated; mapping keys too, as compose does. */
function interpolateDeep(value: unknown, vars: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [interpolate(k, vars), interpolateDeep(v, vars)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------

/** The part of a compose service this project uses. Loose on purpose: the lint checks it. */
export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target?: number; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; [key: string]: unknown };
  deploy?: { replicas?: number; [key: string]: unknown };
  stop_grace_period?: string;
  volumes?: (string | Record<string, unknown>)[];
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Parses the compose file: YAML merge keys (`<<: *anchor`) resolved, and, when `vars` is
 * given, every `${…}` interpolated (without `vars` the text is left as written, for the lint).
 */
export function readCompose(
  options: { file?: string; vars?: Record<string, string | undefined> } = {},
): ComposeFile {
  const text = readFileSync(options.file ?? COMPOSE_FILE, 'utf8');
  const raw = parseYaml(text, { merge: true }) as unknown;
  const parsed = options.vars ? interpolateDeep(raw, options.vars) : raw;
  if (!parsed || typeof parsed !== 'object' || !('services' in parsed)) {
    throw new Error(`${options.file ?? COMPOSE_FILE}: no services`);
  }
  return parsed as ComposeFile;
}

/** A service's `environment` as a map (compose accepts a map or a `K=V` list). */
export function serviceEnvironment(
  service: ComposeService,
  hostVars: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  const entries: [string, unknown][] = Array.isArray(service.environment)
    ? service.environment.map((item) => {
        const eq = item.indexOf('=');
        return eq < 0 ? [item, null] : [item.slice(0, eq), item.slice(eq + 1)];
      })
    : Object.entries(service.environment ?? {});
  for (const [key, value] of entries) {
    // A bare name (`- FOO` or `FOO:` with no value) passes the host's value through.
    if (value === null || value === undefined) {
      const passed = hostVars[key];
      if (passed !== undefined) env[key] = passed;
    } else {
      env[key] = String(value);
    }
  }
  return env;
}

/** A service's command as argv (compose splits a string command on whitespace). */
export function serviceCommand(service: ComposeService): string[] | null {
  if (service.command === undefined) return null;
  if (Array.isArray(service.command)) return service.command.map(String);
  return service.command.split(/\s+/).filter(Boolean);
}

/** The services a service waits for, with their conditions. */
export function serviceDependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']),
  );
}

/** Published ports as container port → host port. */
export function publishedPorts(service: ComposeService): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of service.ports ?? []) {
    if (typeof entry === 'object') {
      if (entry.target !== undefined && entry.published !== undefined) {
        map.set(Number(entry.target), Number(entry.published));
      }
      continue;
    }
    // [ip:]host:container[/proto]; a bare container port is published on a random port.
    const parts = String(entry)
      .replace(/\/\w+$/, '')
      .split(':');
    if (parts.length < 2) continue;
    map.set(Number(parts.at(-1)), Number(parts.at(-2)));
  }
  return map;
}

/** True for services built from this repository's Dockerfile: the Patchbay processes. */
export function runsPatchbay(service: ComposeService): boolean {
  return service.build !== undefined || /^patchbay(:|$)/.test(service.image ?? '');
}

// ---------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------

export interface DockerInstruction {
  /** Upper-cased: FROM, RUN, COPY, … */
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
  /** 1-based line where it starts. */
  line: number;
}

export interface DockerStage {
  /** The base: an image reference or an earlier stage's name. */
  from: string;
  /** `AS name`, or null. */
  name: string | null;
  instructions: DockerInstruction[];
}

/**
 * Splits a Dockerfile into stages of instructions: comments and parser directives dropped,
 * `\` continuations joined (comment lines inside a continuation are skipped, as BuildKit
 * does). Heredocs are not supported; the lint refuses them.
 */
export function parseDockerfile(text: string): DockerStage[] {
  const instructions: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!.trim();
    if (first === '' || first.startsWith('#')) continue;
    const start = i;
    let joined = first;
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      joined = joined.slice(0, -1);
      i++;
      const next = lines[i]!.trim();
      if (next.startsWith('#')) {
        joined += '\\'; // a comment inside a continuation neither ends nor adds to it
        continue;
      }
      joined += ' ' + next;
    }
    const match = /^(\S+)\s*(.*)$/s.exec(joined.trim())!;
    instructions.push({
      keyword: match[1]!.toUpperCase(),
      args: match[2]!.replace(/\s+/g, ' ').trim(),
      line: start + 1,
    });
  }
  const stages: DockerStage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(' ').filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        from: words[0] ?? '',
        name: as >= 0 ? (words[as + 1] ?? null) : null,
        instructions: [instruction],
      });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    } else if (instruction.keyword !== 'ARG') {
      throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
    }
  }
  return stages;
}

/** The JSON array of an exec-form instruction (`["a", "b"]`), or null for shell form. */
export function execForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** Splits on spaces outside double quotes, removing the quotes and `\` escapes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      any = true;
    } else if (c === '"') {
      quoted = !quoted;
      any = true;
    } else if (c === ' ' && !quoted) {
      if (any) words.push(word);
      word = '';
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push(word);
  return words;
}

/** The variables a stage's `ENV` instructions set (`K=V …`, or the legacy `K V`). */
export function stageEnv(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    const words = shellWords(args);
    if (words.length > 0 && !words[0]!.includes('=')) {
      env[words[0]!] = words.slice(1).join(' ');
      continue;
    }
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}

/** The Dockerfile's stages (see `parseDockerfile`). */
export function readDockerfile(file = DOCKERFILE): DockerStage[] {
  return parseDockerfile(readFileSync(file, 'utf8'));
}

// ---------------------------------------------------------------------------------------
// Topology: launch specs for real processes
// ---------------------------------------------------------------------------------------

/** One Patchbay service of the compose file, as processes to start on this machine. */
export interface LaunchSpec {
  /** Compose service name (`api`, `worker`). */
  service: string;
  /** How many processes (`deploy.replicas`, default 1). */
  replicas: number;
  /** Arguments after `node bin/patchbay.js`: the compose command, else the image's CMD. */
  args: string[];
  /**
   * The container's Patchbay environment (the image's `ENV`, then the service's
   * `environment`), with other services' hostnames in URLs pointed at their endpoints here.
   */
  env: Record<string, string>;
  /** The variable that holds the port this process listens on, when it listens. */
  portEnv: 'PATCHBAY_PORT' | 'PATCHBAY_WORKER_HEALTH_PORT' | null;
  /** That port inside the container. */
  port: number | null;
  /** The host port compose publishes it on, when it does. */
  publishedPort: number | null;
  /** Services it waits for, with the condition (`service_healthy`). */
  dependsOn: Record<string, string>;
  /** Seconds compose waits after SIGTERM before SIGKILL (`stop_grace_period`, default 10). */
  stopGraceSeconds: number;
  /**
   * The named volume mounted at the data dir (PATCHBAY_DATA_DIR), or null when each container
   * has its own. Processes with the same volume must get the same data dir here.
   */
  dataVolume: string | null;
}

export interface Topology {
  /** The Patchbay services, in file order. */
  processes: LaunchSpec[];
  /** The other services (postgres, redis): they must be running already. */
  backing: string[];
  /** The spec of one service; throws when the compose file has no such Patchbay service. */
  process(service: string): LaunchSpec;
}

export interface TopologyOptions {
  file?: string;
  dockerfile?: string;
  /** The variables compose would take from the shell (`${PATCHBAY_API_TOKENS:?…}` needs one). */
  vars?: Record<string, string | undefined>;
  /**
   * Where each backing service is reachable from here. A URL whose host is a compose service
   * gets this host (default 127.0.0.1) and, when given, this port.
   */
  endpoints?: Record<string, { host?: string; port?: number }>;
}

/** `1m30s`, `30s`, `500ms` → seconds (compose durations). */
export function parseDuration(text: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g;
  let match: RegExpExecArray | null;
  let consumed = '';
  while ((match = re.exec(text)) !== null) {
    consumed += match[0];
    const n = Number(match[1]);
    const unit = match[2]!;
    total +=
      unit === 'h'
        ? n * 3600
        : unit === 'm'
          ? n * 60
          : unit === 's'
            ? n
            : unit === 'ms'
              ? n / 1000
              : unit === 'us'
                ? n / 1e6
                : n / 1e9;
  }
  if (consumed !== text || text === '') throw new Error(`not a compose duration: ${text}`);
  return total;
}

/**
 * Points `scheme://[user[:password]@]host[:port]…` at the endpoint of `host` when `host` is a
 * compose service name; other values are returned unchanged.
 */
export function rewriteServiceUrl(
  value: string,
  services: readonly string[],
  endpoints: TopologyOptions['endpoints'] = {},
): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^:/?#]+)(:\d+)?(.*)$/is.exec(value);
  if (!match) return value;
  const [, scheme, userinfo = '', host, port = '', rest] = match;
  if (!services.includes(host!)) return value;
  const endpoint = endpoints[host!] ?? {};
  const newPort = endpoint.port !== undefined ? `:${endpoint.port}` : port;
  const newHost = endpoint.host ?? '127.0.0.1';
  const literal = newHost.includes(':') && !newHost.startsWith('[') ? `[${newHost}]` : newHost;
  return `${scheme}${userinfo}${literal}${newPort}${rest}`;
}

/** The top-level named volume a service mounts at `target` (short syntax), or null. */
function namedVolumeAt(
  service: ComposeService,
  target: string | undefined,
  compose: ComposeFile,
): string | null {
  if (target === undefined) return null;
  for (const mount of service.volumes ?? []) {
    if (typeof mount !== 'string') continue;
    const [source, path] = mount.split(':');
    if (path === target && source && Object.hasOwn(compose.volumes ?? {}, source)) return source;
  }
  return null;
}

/**
 * Reads docker-compose.yml (and the Dockerfile's final-stage ENV and CMD) and returns the
 * Patchbay services as launch specs for real processes on this machine.
 *
 * @throws Error when a required compose variable is missing (`${VAR:?…}`), as compose would.
 */
export function composeTopology(options: TopologyOptions = {}): Topology {
  const vars = options.vars ?? {};
  const compose = readCompose({ file: options.file, vars });
  const stages = readDockerfile(options.dockerfile);
  const runtime = stages.at(-1);
  const imageEnv = runtime ? stageEnv(runtime) : {};
  const cmd = runtime?.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  const imageCmd = cmd ? (execForm(cmd.args) ?? []) : [];
  const names = Object.keys(compose.services);

  const processes: LaunchSpec[] = [];
  const backing: string[] = [];
  for (const [service, definition] of Object.entries(compose.services)) {
    if (!runsPatchbay(definition)) {
      backing.push(service);
      continue;
    }
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({
      ...imageEnv,
      ...serviceEnvironment(definition, vars),
    })) {
      env[key] = rewriteServiceUrl(value, names, options.endpoints);
    }
    const args = serviceCommand(definition) ?? imageCmd;
    let portEnv: LaunchSpec['portEnv'] = null;
    let port: number | null = null;
    if (args[0] === 'worker') {
      if (env.PATCHBAY_WORKER_HEALTH_PORT !== undefined) {
        portEnv = 'PATCHBAY_WORKER_HEALTH_PORT';
        port = Number(env.PATCHBAY_WORKER_HEALTH_PORT);
      }
    } else if (args[0] === 'serve') {
      portEnv = 'PATCHBAY_PORT';
      port = Number(env.PATCHBAY_PORT ?? DEFAULT_API_PORT);
    }
    processes.push({
      service,
      replicas: definition.deploy?.replicas ?? 1,
      args,
      env,
      portEnv,
      port,
      publishedPort: port === null ? null : (publishedPorts(definition).get(port) ?? null),
      dependsOn: serviceDependencies(definition),
      stopGraceSeconds:
        definition.stop_grace_period === undefined
          ? 10
          : parseDuration(definition.stop_grace_period),
      dataVolume: namedVolumeAt(definition, env.PATCHBAY_DATA_DIR, compose),
    });
  }
  return {
    processes,
    backing,
    process(service) {
      const spec = processes.find((p) => p.service === service);
      if (!spec) throw new Error(`docker-compose.yml has no Patchbay service ${service}`);
      return spec;
    },
  };
}

/**
 * The environment of one process of a spec on this machine: its listening port (processes on
 * one host cannot share one), its data dir (the same dir for every process whose spec has the
 * same `dataVolume`, as the containers share that volume), then `extra` (a fresh database
 * URL, a unique queue prefix, a log level).
 */
export function instanceEnv(
  spec: LaunchSpec,
  instance: { port?: number; dataDir: string; extra?: Record<string, string> },
): Record<string, string> {
  const env: Record<string, string> = { ...spec.env, PATCHBAY_DATA_DIR: instance.dataDir };
  if (spec.portEnv && instance.port !== undefined) env[spec.portEnv] = String(instance.port);
  return { ...env, ...instance.extra };
}
