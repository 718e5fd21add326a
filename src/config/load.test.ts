import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPatchbayError } from '../contracts/index.js';
import { colorPreference, loadConfig, secretValues, type LoadConfigOptions } from './load.js';

interface ConfigError {
  code: string;
  status: number;
  message: string;
  details: { problems: { source: string; message: string }[] };
}

/** The CONFIG_INVALID error loadConfig throws (fails the test when it does not throw). */
function configError(options: LoadConfigOptions): ConfigError {
  try {
    loadConfig(options);
  } catch (err) {
    expect(isPatchbayError(err)).toBe(true);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('loadConfig did not throw');
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pb-config-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('applies defaults', () => {
    const cwd = tempDir();
    const c = loadConfig({ env: {}, cwd });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 7070,
      maxConcurrentRuns: 4,
      runTimeoutMs: 1_800_000,
    });
    expect(c.dataDir).toBe(join(homedir(), '.patchbay'));
    expect(c.databaseUrl).toBe(join(homedir(), '.patchbay', 'patchbay.db'));
    expect(c.workspaceRoots).toEqual([join(homedir(), '.patchbay', 'workspaces')]);
  });

  it('layers defaults < file < env < flags', () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.json'),
      JSON.stringify({ port: 1111, maxConcurrentRuns: 2, logLevel: 'debug' }),
    );
    const c = loadConfig({
      env: { PATCHBAY_PORT: '2222', PATCHBAY_MAX_CONCURRENT_RUNS: '3' },
      flags: { port: 3333 },
      cwd,
    });
    expect(c.port).toBe(3333); // flag beats env
    expect(c.maxConcurrentRuns).toBe(3); // env beats file
    expect(c.logLevel).toBe('debug'); // file beats default
    expect(c.host).toBe('127.0.0.1'); // default
  });

  it('layers lists the same way, and an empty env value counts as unset', () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.json'),
      JSON.stringify({ allowedCommands: ['from-file'], apiTokens: ['file-token'], port: 4444 }),
    );
    const c = loadConfig({
      env: { PATCHBAY_ALLOWED_COMMANDS: 'from-env', PATCHBAY_API_TOKENS: '', PATCHBAY_PORT: '' },
      flags: { allowedCommands: ['from-flag', 'two'] },
      cwd,
    });
    expect(c.allowedCommands).toEqual(['from-flag', 'two']);
    expect(c.apiTokens).toEqual(['file-token']);
    expect(c.port).toBe(4444);
    expect(loadConfig({ env: {}, cwd: tempDir() }).allowedCommands).toBeUndefined();
  });

  it('reads the file named by PATCHBAY_CONFIG', () => {
    const cwd = tempDir();
    const file = join(cwd, 'custom.json');
    writeFileSync(file, JSON.stringify({ $schema: './schema.json', idleTimeoutMs: 1234 }));
    expect(loadConfig({ env: { PATCHBAY_CONFIG: file }, cwd }).idleTimeoutMs).toBe(1234);
    // Relative to cwd; an explicit file that is missing is an error, not a silent default.
    expect(loadConfig({ env: { PATCHBAY_CONFIG: 'custom.json' }, cwd }).idleTimeoutMs).toBe(1234);
    const missing = configError({ env: { PATCHBAY_CONFIG: join(cwd, 'nope.json') }, cwd });
    expect(missing.details.problems).toEqual([
      { source: join(cwd, 'nope.json'), message: expect.stringContaining('cannot read') },
    ]);
  });

  it('reports every problem at once', () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.json'),
      JSON.stringify({ prot: 1, outputPolicy: 'explode' }),
    );
    const err = configError({
      env: { PATCHBAY_PORT: 'notaport', PATCHBAY_MAX_CONCURRENT_RUNS: '0' },
      flags: { killGraceMs: -5 },
      cwd,
    });
    const file = join(cwd, 'patchbay.config.json');
    // Each problem once, named the way the user wrote it; nothing else.
    expect(err.details.problems.map((p) => p.source).sort()).toEqual(
      [
        `${file}: prot`,
        'patchbay.config.json: outputPolicy',
        'PATCHBAY_PORT',
        'PATCHBAY_MAX_CONCURRENT_RUNS',
        '--kill-grace-ms',
      ].sort(),
    );
    expect(err.details.problems.find((p) => p.source.endsWith('prot'))!.message).toBe(
      'unknown setting',
    );
    expect(err.details.problems.find((p) => p.source === 'PATCHBAY_PORT')!.message).toContain(
      '"notaport"',
    );
    for (const source of ['PATCHBAY_PORT', 'PATCHBAY_MAX_CONCURRENT_RUNS', 'prot', 'outputPolicy'])
      expect(err.message).toContain(source);
  });

  it('refuses a config file that is not one JSON object', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'patchbay.config.json'), '[1, 2]');
    expect(configError({ env: {}, cwd }).details.problems).toEqual([
      {
        source: join(cwd, 'patchbay.config.json'),
        message: 'config file must contain one JSON object',
      },
    ]);
  });

  it('refuses a config file that is not JSON', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'patchbay.config.json'), '{ nope');
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/not valid JSON/);
  });

  it('parses comma lists and expands ~', () => {
    const cwd = tempDir();
    const c = loadConfig({
      env: {
        PATCHBAY_API_TOKENS: ' a, b ,,c',
        PATCHBAY_DATA_DIR: '~/pbdata',
        PATCHBAY_ALLOWED_COMMANDS: 'echo,true',
      },
      cwd,
    });
    expect(c.apiTokens).toEqual(['a', 'b', 'c']);
    expect(c.allowedCommands).toEqual(['echo', 'true']);
    expect(c.dataDir).toBe(join(homedir(), 'pbdata'));
    // Derived from the data dir when unset.
    expect(c.databaseUrl).toBe(join(homedir(), 'pbdata', 'patchbay.db'));
    expect(c.workspaceRoots).toEqual([join(homedir(), 'pbdata', 'workspaces')]);
  });

  it('expands ~ and resolves relative paths from cwd in workspace roots and the data dir', () => {
    const cwd = tempDir();
    const c = loadConfig({
      env: { PATCHBAY_WORKSPACE_ROOTS: '~/code, projects ,/abs/root,~', PATCHBAY_DATA_DIR: 'data' },
      cwd,
    });
    expect(c.workspaceRoots).toEqual([
      join(homedir(), 'code'),
      join(cwd, 'projects'),
      '/abs/root',
      homedir(),
    ]);
    expect(c.dataDir).toBe(join(cwd, 'data'));
  });

  it('passes only allow-listed variables to children', () => {
    const cwd = tempDir();
    const c = loadConfig({
      env: {
        PATH: '/bin',
        HOME: '/root',
        PATCHBAY_API_TOKENS: 'secret',
        AWS_SECRET_ACCESS_KEY: 'x',
        PATCHBAY_WEBHOOK_SECRET: 'w',
      },
      cwd,
    });
    expect(c.childEnvBase).toEqual({ PATH: '/bin', HOME: '/root' });
  });

  it('passes only the configured allow-list, and never a variable outside it', () => {
    const env = {
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      MY_TOOL_HOME: '/opt/tool',
      PATCHBAY_API_TOKENS: 'secret-token',
      AWS_SECRET: 'aws-secret',
      AWS_SECRET_ACCESS_KEY: 'aws-key',
      GITHUB_TOKEN: 'ghp_x',
      PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,MY_TOOL_HOME,NOT_SET_ANYWHERE',
    };
    const c = loadConfig({ env, cwd: tempDir() });
    expect(c.childEnvBase).toEqual({ PATH: '/usr/bin', MY_TOOL_HOME: '/opt/tool' });
    const serialized = JSON.stringify(c.childEnvBase);
    for (const secret of ['secret-token', 'aws-secret', 'aws-key', 'ghp_x'])
      expect(serialized).not.toContain(secret);
  });

  it('reads the observability settings and lists the secrets to scrub', () => {
    const c = loadConfig({
      cwd: tempDir(),
      env: {
        PATCHBAY_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        PATCHBAY_OTLP_HEADERS: 'x-api-key=abc=def, x-team = core',
        PATCHBAY_SENTRY_DSN: 'https://pubkey@errors.example.com/12',
        PATCHBAY_API_TOKENS: 'tok-1,tok-2',
        PATCHBAY_DATABASE_URL: 'postgres://app:dbpw@db:5432/patchbay',
      },
    });
    expect(c.otlpHeaders).toEqual({ 'x-api-key': 'abc=def', 'x-team': 'core' });
    expect(c.otlpServiceName).toBe('patchbay');
    expect(secretValues(c).sort()).toEqual(['abc=def', 'core', 'dbpw', 'pubkey', 'tok-1', 'tok-2']);
    // A SQLite path is not a secret: errors naming it stay readable.
    expect(secretValues(loadConfig({ cwd: tempDir(), env: {} }))).toEqual([]);
  });

  it('refuses a DSN without a key or project and a malformed header list', () => {
    const err = configError({
      cwd: tempDir(),
      env: {
        PATCHBAY_SENTRY_DSN: 'https://errors.example.com/',
        PATCHBAY_OTLP_HEADERS: 'bad header=1',
      },
    });
    const sources = err.details.problems.map((p) => p.source).sort();
    expect(sources).toEqual(['PATCHBAY_OTLP_HEADERS', 'PATCHBAY_SENTRY_DSN']);
  });
});

describe('colorPreference', () => {
  it('follows NO_COLOR, then FORCE_COLOR, else the terminal', () => {
    expect(colorPreference({})).toBe('auto');
    expect(colorPreference({ NO_COLOR: '1' })).toBe('never');
    expect(colorPreference({ NO_COLOR: '' })).toBe('auto');
    expect(colorPreference({ FORCE_COLOR: '1' })).toBe('always');
    expect(colorPreference({ FORCE_COLOR: '0' })).toBe('never');
    expect(colorPreference({ NO_COLOR: '1', FORCE_COLOR: '1' })).toBe('never');
  });
});
