/**
 * Lint of the deployment files. No Docker engine, `docker compose` or hadolint runs here, so
 * this checks the rules that matter for Patchbay against the parsed Dockerfile and compose
 * file, and against the real config schema and CLI program: every PATCHBAY_* name is a
 * setting, every value passes the schema, every command line parses.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createProgram } from '../../src/cli/program.js';
import { CONFIG_PATH_ENV, loadConfig, settings } from '../../src/config/index.js';
import { isLoopbackHost } from '../../src/server/index.js';
import {
  COMPOSE_FILE,
  DOCKERFILE,
  composeTopology,
  execForm,
  parseDuration,
  readCompose,
  readDockerfile,
  serviceCommand,
  serviceDependencies,
  stageEnv,
  type DockerInstruction,
  type DockerStage,
} from '../e2e/topology.js';

const root = join(import.meta.dirname, '..', '..');
const dockerfileText = readFileSync(DOCKERFILE, 'utf8');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');
const stages = readDockerfile();
const runtime = stages.at(-1)!;
const compose = readCompose();
/** What an operator would export before `docker compose up`. */
const sampleVars = { PATCHBAY_API_TOKENS: 'token-1,token-2', POSTGRES_PASSWORD: 'secret' };

const realSettings = new Set([...Object.values(settings).map((s) => s.env), CONFIG_PATH_ENV]);

function instructions(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The final stage's last instruction of a kind (the one that takes effect). */
function last(keyword: string): DockerInstruction | undefined {
  return instructions(runtime, keyword).at(-1);
}

function healthcheckCommand(args: string): string[] | null {
  const cmd = /(?:^|\s)CMD\s+(.*)$/s.exec(args);
  return cmd ? execForm(cmd[1]!.trim()) : null;
}

describe('Dockerfile', () => {
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));

  it('is multi-stage and every base image is node:20 on bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      if (stageNames.has(stage.from)) continue; // FROM an earlier stage
      expect(stage.from, 'base image').toMatch(
        /^node:20(\.\d+){0,2}-bookworm-slim(@sha256:[0-9a-f]{64})?$/,
      );
    }
  });

  it('copies between stages only from stages defined earlier', () => {
    for (const [index, stage] of stages.entries()) {
      for (const copy of instructions(stage, 'COPY')) {
        const from = /--from=(\S+)/.exec(copy.args)?.[1];
        if (from === undefined) continue;
        const earlier = stages.slice(0, index).map((s) => s.name);
        expect(earlier, `line ${copy.line}: COPY --from=${from}`).toContain(from);
      }
    }
  });

  it('runs the final stage as a fixed, non-root uid that owns the data dir', () => {
    const user = last('USER');
    expect(user, 'the final stage needs a USER').toBeDefined();
    const [uid, gid] = user!.args.split(':');
    // Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(gid).toMatch(/^\d+$/);
    const runs = instructions(runtime, 'RUN')
      .map((r) => r.args)
      .join('\n');
    expect(runs).toMatch(new RegExp(`useradd[^\\n]*--uid ${uid}\\b`));
    const dataDir = stageEnv(runtime).PATCHBAY_DATA_DIR;
    expect(dataDir, 'PATCHBAY_DATA_DIR in the image').toBeDefined();
    expect(runs).toContain(`chown ${user!.args} ${dataDir}`);
    const volumes = instructions(runtime, 'VOLUME').flatMap((v) => execForm(v.args) ?? [v.args]);
    expect(volumes).toContain(dataDir);
  });

  it('has a HEALTHCHECK in exec form that needs nothing but node', () => {
    const health = last('HEALTHCHECK');
    expect(health, 'the final stage needs a HEALTHCHECK').toBeDefined();
    const command = healthcheckCommand(health!.args);
    expect(command, 'HEALTHCHECK CMD in exec form').not.toBeNull();
    expect(command![0]).toBe('node'); // no curl or wget in the image
    expect(command!.join(' ')).toContain('/health');
  });

  it('starts bin/patchbay.js in exec form, directly so its shebang keeps the memory flags', () => {
    const entrypoint = execForm(last('ENTRYPOINT')?.args ?? '');
    const cmd = execForm(last('CMD')?.args ?? '');
    expect(entrypoint, 'ENTRYPOINT in exec form').not.toBeNull();
    expect(cmd, 'CMD in exec form').not.toBeNull();
    const bin = entrypoint!.find((a) => a.endsWith('bin/patchbay.js'));
    expect(bin, 'ENTRYPOINT runs bin/patchbay.js').toBeDefined();
    if (entrypoint![entrypoint!.indexOf(bin!) - 1] !== 'node') {
      // Run as a program: it must be executable and carry the flags in its shebang.
      const local = join(root, 'bin', 'patchbay.js');
      expect(statSync(local).mode & 0o111, 'bin/patchbay.js is executable').not.toBe(0);
      expect(readFileSync(local, 'utf8').split('\n')[0]).toMatch(/^#!\/usr\/bin\/env -S node /);
    }
    // An init as PID 1 forwards SIGTERM (workers drain on it) and reaps orphaned processes.
    expect(entrypoint![0]).toMatch(/tini$/);
    expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /\btini\b/.test(i.args))).toBe(
      true,
    );
  });

  it('installs with npm install (never npm ci), builds, and prunes dev dependencies', () => {
    const runs = stages.flatMap((s) => instructions(s, 'RUN')).map((r) => r.args);
    for (const run of runs) expect(run).not.toMatch(/\bnpm\s+(ci|clean-install)\b/);
    const build = stages[0]!;
    const buildRuns = instructions(build, 'RUN')
      .map((r) => r.args)
      .join('\n');
    expect(buildRuns).toMatch(/\bnpm install\b/);
    expect(buildRuns).toMatch(/\bnpm run build\b/);
    expect(buildRuns).toMatch(/\bnpm prune --omit=dev\b/);
    expect(buildRuns).toMatch(/apt-get install[^\n]*\bpython3\b[^\n]*\bmake\b[^\n]*\bg\+\+/);
  });

  it('never ADDs a URL, and uses no heredocs (which this lint cannot read)', () => {
    for (const stage of stages) {
      for (const add of instructions(stage, 'ADD')) {
        expect(add.args, `line ${add.line}`).not.toMatch(/:\/\/|git@/);
      }
      for (const i of stage.instructions) expect(i.args, `line ${i.line}`).not.toMatch(/<<-?\S/);
    }
  });

  it('gives the runtime git and bubblewrap, without recommends or apt lists', () => {
    const installs = instructions(runtime, 'RUN').filter((r) => r.args.includes('apt-get install'));
    const text = installs.map((r) => r.args).join('\n');
    expect(text).toMatch(/\bgit\b/);
    expect(text).toMatch(/\bbubblewrap\b/);
    for (const run of installs) {
      expect(run.args).toContain('--no-install-recommends');
      expect(run.args).toContain('rm -rf /var/lib/apt/lists/*');
    }
  });

  it('exposes the default API port', () => {
    const defaultPort = String(settings.port.schema.parse(undefined));
    const exposed = instructions(runtime, 'EXPOSE').flatMap((e) => e.args.split(' '));
    expect(exposed.map((p) => p.replace(/\/tcp$/, ''))).toContain(defaultPort);
  });

  it('ships what bin/patchbay.js needs: the bundle, its externals as runtime dependencies', () => {
    const copied = instructions(runtime, 'COPY').map((c) => c.args.split(' ').at(-2));
    for (const path of ['/app/package.json', '/app/bin', '/app/dist', '/app/node_modules']) {
      expect(copied).toContain(path);
    }
    // scripts/bundle.ts leaves these out of dist/patchbay.mjs: they load from node_modules,
    // which the image prunes to dependencies + optionalDependencies.
    const bundleScript = readFileSync(join(root, 'scripts', 'bundle.ts'), 'utf8');
    const list = /const external = \[([^\]]*)\]/.exec(bundleScript)?.[1];
    expect(list, 'the external list in scripts/bundle.ts').toBeDefined();
    const externals = [...list!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    expect(externals.length).toBeGreaterThan(0);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const shipped = { ...pkg.dependencies, ...pkg.optionalDependencies };
    for (const name of externals) expect(Object.keys(shipped), name).toContain(name);
  });

  it('leaves out of the build context nothing the build copies, and keeps bulk out', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    // Only literal names are used in .dockerignore (no globs beyond `*.x`), so this is exact.
    const isIgnored = (path: string): boolean =>
      ignored.some((pattern) => {
        const re = new RegExp(
          '^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '(/|$)',
        );
        return re.test(path);
      });
    const sources = stages
      .flatMap((s) => instructions(s, 'COPY'))
      .filter((c) => !c.args.includes('--from='))
      .flatMap((c) => c.args.split(' ').slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(root, source)), `${source} exists`).toBe(true);
      expect(isIgnored(source), `${source} is in .dockerignore`).toBe(false);
    }
    for (const bulk of ['node_modules', 'dist', '.git']) expect(isIgnored(bulk), bulk).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('has the roles: api, two workers, postgres and redis', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    expect(services.worker!.deploy?.replicas).toBe(2);
    expect(services.api!.deploy?.replicas ?? 1).toBe(1);
    // Replicas cannot share a container name or a published host port.
    expect(services.worker!.container_name).toBeUndefined();
    expect(services.worker!.ports).toBeUndefined();
  });

  it('gives every service an exec-form healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      const test = service.healthcheck?.test;
      expect(Array.isArray(test), `${name} healthcheck.test is a list`).toBe(true);
      expect(['CMD', 'CMD-SHELL'], name).toContain((test as string[])[0]);
    }
  });

  it('starts the Patchbay services only once PostgreSQL and Redis are healthy', () => {
    for (const name of ['api', 'worker']) {
      expect(serviceDependencies(services[name]!), name).toEqual({
        postgres: 'service_healthy',
        redis: 'service_healthy',
      });
    }
  });

  it('runs an API node without a worker, and workers', () => {
    expect(serviceCommand(services.api!)).toEqual(['serve', '--no-worker']);
    expect(serviceCommand(services.worker!)?.[0]).toBe('worker');
    for (const name of ['api', 'worker']) {
      expect(Array.isArray(services[name]!.command), `${name}: command in exec form`).toBe(true);
    }
  });

  it('keeps PostgreSQL and Redis data in named volumes, and Redis keys unevicted (BullMQ)', () => {
    expect(Object.keys(compose.volumes ?? {})).toEqual(
      expect.arrayContaining(['postgres-data', 'redis-data']),
    );
    expect(services.postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(services.redis!.volumes).toContain('redis-data:/data');
    const redis = serviceCommand(services.redis!)!;
    expect(redis[redis.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('shares one data volume, at the image data dir, between every Patchbay process', () => {
    const dataDir = stageEnv(runtime).PATCHBAY_DATA_DIR;
    expect(dataDir).toBeDefined();
    const volumes = composeTopology({ vars: sampleVars }).processes.map((p) => [
      p.service,
      p.dataVolume,
      p.env.PATCHBAY_DATA_DIR,
    ]);
    expect(volumes).toEqual([
      ['api', 'patchbay-data', dataDir],
      ['worker', 'patchbay-data', dataDir],
    ]);
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      expect(service.image, name).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
    }
  });

  it('requires the API tokens from the environment, with a message', () => {
    expect(composeText).toMatch(/PATCHBAY_API_TOKENS: \$\{PATCHBAY_API_TOKENS:\?[^}]+\}/);
    expect(() => composeTopology({ vars: { POSTGRES_PASSWORD: 'x' } })).toThrow(
      /PATCHBAY_API_TOKENS is missing a value: set PATCHBAY_API_TOKENS/,
    );
  });

  it('points every Patchbay process at the postgres and redis services, with matching credentials', () => {
    const resolved = readCompose({ vars: sampleVars }).services;
    const pg = resolved.postgres!.environment as Record<string, string>;
    for (const name of ['api', 'worker']) {
      const env = resolved[name]!.environment as Record<string, string>;
      const db = new URL(env.PATCHBAY_DATABASE_URL!);
      expect(db.protocol).toBe('postgres:');
      expect(db.hostname).toBe('postgres');
      expect(decodeURIComponent(db.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
      expect(new URL(env.PATCHBAY_QUEUE_URL!).hostname).toBe('redis');
    }
    const api = resolved.api!.environment as Record<string, string>;
    const worker = resolved.worker!.environment as Record<string, string>;
    for (const key of ['PATCHBAY_DATABASE_URL', 'PATCHBAY_QUEUE_URL', 'PATCHBAY_QUEUE_PREFIX']) {
      expect(worker[key], key).toBe(api[key]); // one installation: same store, queue and prefix
    }
  });

  it('probes each Patchbay service on the port it listens on', () => {
    const topology = composeTopology({ vars: sampleVars });
    for (const spec of topology.processes) {
      const test = services[spec.service]!.healthcheck!.test as string[];
      expect(spec.port, spec.service).not.toBeNull();
      expect(test.at(-1), `${spec.service} probes its port`).toBe(String(spec.port));
    }
    expect(topology.process('api').publishedPort).toBe(7070);
  });

  it('waits longer than the drain grace before killing a worker', () => {
    const args = serviceCommand(services.worker!)!;
    const grace = Number(args[args.indexOf('--grace-ms') + 1]);
    expect(grace).toBeGreaterThan(0);
    const stop = parseDuration(services.worker!.stop_grace_period ?? '10s');
    expect(stop * 1000).toBeGreaterThan(grace);
  });
});

describe('Patchbay settings and commands in the deployment files', () => {
  it('names only real settings (docs/scaling.md included)', () => {
    const scaling = readFileSync(join(root, 'docs', 'scaling.md'), 'utf8');
    const text = dockerfileText + composeText + scaling;
    const names = [...new Set([...text.matchAll(/\bPATCHBAY_[A-Z0-9_]+/g)].map((m) => m[0]))];
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) {
      expect(realSettings.has(name), name).toBe(true);
    }
  });

  it('gives every Patchbay process an environment the config schema accepts', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'patchbay-deploy-')); // no patchbay.config.json here
    try {
      for (const spec of composeTopology({ vars: sampleVars }).processes) {
        const config = loadConfig({ env: spec.env, cwd });
        expect(config.databaseUrl, spec.service).toMatch(/^postgres:\/\//);
        expect(config.queueUrl, spec.service).toMatch(/^redis:\/\//);
        // The server's bind rule (SERVER_UNSAFE_BIND): beyond loopback only with tokens.
        if (!isLoopbackHost(config.host)) expect(config.apiTokens.length).toBeGreaterThan(0);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  /** Commands with their actions replaced, so parsing a command line runs nothing. */
  function inertProgram(): Command {
    const program = createProgram();
    const quiet = { writeOut: () => undefined, writeErr: () => undefined };
    program.exitOverride().configureOutput(quiet);
    for (const command of program.commands) {
      command.exitOverride().configureOutput(quiet);
      command.action(() => undefined);
    }
    return program;
  }

  const commandLines = (): [string, string[]][] => [
    ['Dockerfile CMD', execForm(last('CMD')!.args)!],
    ...Object.entries(compose.services)
      .filter(([, s]) => s.build !== undefined)
      .map(([name, s]): [string, string[]] => [name, serviceCommand(s)!]),
  ];

  it('uses only commands and flags the CLI accepts', async () => {
    for (const [where, argv] of commandLines()) {
      const program = inertProgram();
      await expect(
        program.parseAsync(argv, { from: 'user' }),
        `${where}: patchbay ${argv.join(' ')}`,
      ).resolves.toBeDefined();
    }
  });

  it('the lint catches a flag the CLI does not have', async () => {
    const program = inertProgram();
    await expect(program.parseAsync(['serve', '--no-such-flag'], { from: 'user' })).rejects.toThrow(
      /unknown option/,
    );
  });
});

describe('docs/scaling.md', () => {
  const doc = readFileSync(join(root, 'docs', 'scaling.md'), 'utf8');

  it('shows a Kubernetes worker that drains within its grace, probed like the image', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'a yaml block').toBeDefined();
    const manifest = parseYaml(block!) as {
      spec: {
        template: {
          spec: {
            terminationGracePeriodSeconds: number;
            containers: { args: string[]; livenessProbe: { exec: { command: string[] } } }[];
          };
        };
      };
    };
    const pod = manifest.spec.template.spec;
    const container = pod.containers[0]!;
    const grace = Number(container.args[container.args.indexOf('--grace-ms') + 1]);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(grace);
    const probe = container.livenessProbe.exec.command;
    expect(probe.slice(0, -1)).toEqual(healthcheckCommand(last('HEALTHCHECK')!.args));
  });
});

describe('the health probe (Dockerfile HEALTHCHECK and compose healthchecks)', () => {
  const token = 'probe-token';
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // Answers /health like Patchbay with PATCHBAY_API_TOKENS set: 200 with the token, else 401.
    server = createServer((req, res) => {
      const ok = req.url === '/health' && req.headers.authorization === `Bearer ${token}`;
      res.writeHead(ok ? 200 : 401).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** Runs a probe command (`node -e …` [port]) the way Docker would, returning its exit code. */
  function probe(argv: string[], env: Record<string, string>): Promise<number> {
    return new Promise((resolve) => {
      const [program, ...args] = argv;
      expect(program).toBe('node');
      execFile(
        process.execPath,
        args,
        { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 },
        (err) => resolve(err ? ((err as { code?: number }).code ?? -1) : 0),
      );
    });
  }

  /** Each probe with the compose port argument replaced by this test server's port. */
  function probes(): [string, string[]][] {
    const fromImage = healthcheckCommand(last('HEALTHCHECK')!.args)!;
    const fromCompose = Object.entries(compose.services)
      .filter(([, s]) => s.build !== undefined)
      .map(([name, s]): [string, string[]] => {
        const test = (s.healthcheck!.test as string[]).slice(1);
        return [name, [...test.slice(0, -1), String(port)]];
      });
    return [['Dockerfile', [...fromImage, String(port)]], ...fromCompose];
  }

  it('succeeds with the first configured token', async () => {
    for (const [where, argv] of probes()) {
      expect(await probe(argv, { PATCHBAY_API_TOKENS: `${token},other` }), where).toBe(0);
    }
  });

  it('fails on a wrong token, and when nothing listens', async () => {
    for (const [where, argv] of probes()) {
      expect(await probe(argv, { PATCHBAY_API_TOKENS: 'wrong' }), where).toBe(1);
      const closed = [...argv.slice(0, -1), '1'];
      expect(await probe(closed, { PATCHBAY_API_TOKENS: token }), where).toBe(1);
    }
  });

  it('falls back to PATCHBAY_PORT without a port argument (the image default)', async () => {
    const fromImage = healthcheckCommand(last('HEALTHCHECK')!.args)!;
    expect(
      await probe(fromImage, { PATCHBAY_API_TOKENS: token, PATCHBAY_PORT: String(port) }),
    ).toBe(0);
  });
});
