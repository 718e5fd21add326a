import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, runChildEnv, stageProcessEnv } from '../config/index.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'patchbay-stage-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The server's own environment: a CA bundle the operator allowlisted, and a secret it did not. */
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '');
const serverEnv = {
  PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  HOME: dir,
  NODE_EXTRA_CA_CERTS: caFile,
  PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,HOME,NODE_EXTRA_CA_CERTS',
  PATCHBAY_TEST_SECRET: 'never-in-a-child',
};
const config = loadConfig({ env: serverEnv, envOnly: true });

describe('the environment of optimizer stage processes', () => {
  it('re-filtered by the stage, a run env keeps exactly the clean base only with the allowlist in it', () => {
    expect(config.childEnvBase).toEqual({
      PATH: serverEnv.PATH,
      HOME: dir,
      NODE_EXTRA_CA_CERTS: caFile,
    });
    // What the stage's own config loader makes of the environment it was started with.
    const asStage = (env: Record<string, string>) =>
      loadConfig({ env, envOnly: true }).childEnvBase;
    expect(asStage(stageProcessEnv(config))).toEqual(config.childEnvBase);
    // Before: the run env alone, filtered again with the default list, lost the CA bundle.
    expect(asStage(runChildEnv(config))).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
  });

  it("a real stage's steps get the allowlisted variables and nothing else of the server's", async () => {
    const repo = join(dir, 'repo');
    const runDir = join(dir, 'run');
    const printed = join(dir, 'install-env.txt');
    mkdirSync(repo);
    // The install step prints its environment; no package manager runs.
    writeFileSync(
      join(repo, '.patchbay.json'),
      JSON.stringify({ commands: { install: `env > ${printed}`, test: 'true' } }),
    );
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'fixture');

    const env = stageProcessEnv(config);
    const stage = (...args: string[]) =>
      run(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), CLI, 'optimize-stage', ...args],
        {
          env,
          cwd: dir,
          timeout: 120_000,
        },
      );
    await stage('detect', '--dir', runDir, '--source', repo);
    const baseline = await stage('baseline', '--dir', runDir);
    expect(baseline.stdout).toMatch(/"type":"result","ok":true/);

    const seen = Object.fromEntries(
      readFileSync(printed, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(seen.NODE_EXTRA_CA_CERTS).toBe(caFile);
    expect(seen.HOME).toBe(dir);
    expect(seen.PATH).toBe(serverEnv.PATH);
    expect(seen).not.toHaveProperty('PATCHBAY_TEST_SECRET');
    // Only the base and what `sh` itself sets (PWD, SHLVL, `_`, OLDPWD).
    const extra = Object.keys(seen).filter(
      (k) => !(k in config.childEnvBase) && !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(k),
    );
    expect(extra).toEqual([]);
  }, 240_000);
});
