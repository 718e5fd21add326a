import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPatchbayError } from '../contracts/index.js';
import { loadConfig } from './load.js';

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
  });

  it('reads the file named by PATCHBAY_CONFIG', () => {
    const cwd = tempDir();
    const file = join(cwd, 'custom.json');
    writeFileSync(file, JSON.stringify({ idleTimeoutMs: 1234 }));
    expect(loadConfig({ env: { PATCHBAY_CONFIG: file }, cwd }).idleTimeoutMs).toBe(1234);
  });

  it('reports every problem at once', () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.json'),
      JSON.stringify({ prot: 1, outputPolicy: 'explode' }),
    );
    let caught: unknown;
    try {
      loadConfig({ env: { PATCHBAY_PORT: 'notaport', PATCHBAY_MAX_CONCURRENT_RUNS: '0' }, cwd });
    } catch (err) {
      caught = err;
    }
    expect(isPatchbayError(caught)).toBe(true);
    const err = caught as {
      code: string;
      message: string;
      details: { problems: { source: string }[] };
    };
    expect(err.code).toBe('CONFIG_INVALID');
    const sources = err.details.problems.map((p) => p.source);
    expect(sources).toEqual(
      expect.arrayContaining([
        'PATCHBAY_PORT',
        'PATCHBAY_MAX_CONCURRENT_RUNS',
        expect.stringContaining('prot'),
        expect.stringContaining('outputPolicy'),
      ]),
    );
    expect(err.message).toContain('PATCHBAY_PORT');
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
});
