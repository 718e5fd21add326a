/**
 * `patchbay doctor` on agent CLIs, through the built CLI: the real pinned CLIs of
 * test/agents-real (when installed there), and scripted ones for what the real ones cannot
 * show: a version outside the tested one, a missing binary, one that hangs on --version.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, freePort, ROOT, runCli, tempDir } from './helpers.js';

afterAll(cleanupAll);

const REAL = join(ROOT, 'test', 'agents-real', 'node_modules', '.bin');
const realInstalled = ['claude', 'codex', 'gemini'].every((b) => existsSync(join(REAL, b)));
const HANG = join(ROOT, 'test', 'fixtures', 'agents', 'hang.sh');

interface AgentReport {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'absent';
  version: string | null;
  tested: string | null;
  versionStatus: string | null;
  credentials: { kind: string; names?: string[]; path?: string }[];
  problems: { severity: string; message: string; fix: string }[];
}

/**
 * A fresh HOME and data dir, and a PATH with node and the system's tools only (none of this
 * machine's agent CLIs, which usually sit in /usr/local/bin): just the CLIs a test names.
 */
async function baseEnv(): Promise<Record<string, string> & { HOME: string }> {
  return {
    HOME: tempDir('patchbay-doctor-home-'),
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    PATCHBAY_DATA_DIR: tempDir(),
    PATCHBAY_PORT: String(await freePort()),
  };
}

async function doctor(env: Record<string, string>, json: boolean, timeoutMs = 40_000) {
  const res = await runCli(json ? ['doctor', '--json'] : ['doctor'], { env, timeoutMs });
  const agents = json
    ? Object.fromEntries(
        (JSON.parse(res.stdout) as { agents: AgentReport[] }).agents.map((a) => [a.name, a]),
      )
    : {};
  return { ...res, agents };
}

/** An executable that prints `line` for --version. */
function fakeCli(line: string): string {
  const dir = tempDir('patchbay-doctor-bin-');
  const file = join(dir, 'cli');
  writeFileSync(file, `#!/bin/sh\necho '${line}'\n`);
  chmodSync(file, 0o755);
  return file;
}

describe.skipIf(!realInstalled)('patchbay doctor on the real pinned CLIs', () => {
  it('reads their versions as tested and says where their credentials come from', async () => {
    const env = {
      ...(await baseEnv()),
      PATCHBAY_AGENT_CLAUDE_BIN: join(REAL, 'claude'),
      PATCHBAY_AGENT_CODEX_BIN: join(REAL, 'codex'),
      PATCHBAY_AGENT_GEMINI_BIN: join(REAL, 'gemini'),
      ANTHROPIC_API_KEY: 'sk-ant-doctor-never-printed',
    };
    // gemini's login, as `gemini` leaves it after signing in with Google.
    mkdirSync(join(env.HOME, '.gemini'));
    writeFileSync(join(env.HOME, '.gemini', 'oauth_creds.json'), '{"access_token":"secret-tok"}');

    const res = await doctor(env, true);
    expect(res.code, res.stderr).toBe(0);
    expect(res.agents.claude).toMatchObject({
      status: 'ok',
      version: '2.1.332',
      versionStatus: 'tested',
      credentials: [{ kind: 'env', names: ['ANTHROPIC_API_KEY'] }],
    });
    expect(res.agents.gemini).toMatchObject({
      status: 'ok',
      version: '0.61.0',
      versionStatus: 'tested',
      credentials: [{ kind: 'login', path: join(env.HOME, '.gemini', 'oauth_creds.json') }],
    });
    // Installed and tested, but nothing to log in with: a warning, not a failure.
    expect(res.agents.codex).toMatchObject({
      status: 'warn',
      version: '0.171.0',
      versionStatus: 'tested',
      credentials: [],
      problems: [
        {
          severity: 'warn',
          message: 'no credentials for its runs',
          fix: "set OPENAI_API_KEY in the server's environment (PATCHBAY_AGENT_CREDENTIALS=auto passes it), or run `codex login` as the server's user",
        },
      ],
    });
    expect(res.stdout).not.toContain('sk-ant-doctor-never-printed');
    expect(res.stdout).not.toContain('secret-tok');

    const text = await doctor(env, false);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `ok    agent     claude 2.1.332 (tested: 2.1.332) at ${join(REAL, 'claude')}\n` +
        "                credentials: ANTHROPIC_API_KEY (server's environment)\n",
    );
    expect(text.stdout).toContain('credentials: login ~/.gemini/oauth_creds.json\n');
    expect(text.stdout).toMatch(
      /warn {2}agent {5}codex 0\.171\.0 \(tested: 0\.171\.0\) at .*\n {16}credentials: none found\n {16}! no credentials for its runs — fix: set OPENAI_API_KEY/,
    );
    expect(text.stdout).not.toContain('sk-ant-doctor-never-printed');
  });
});

describe('patchbay doctor on agent CLIs that are off', () => {
  it('warns about a version outside the tested one, with the install that pins it', async () => {
    const env = {
      ...(await baseEnv()),
      PATCHBAY_AGENT_CODEX_BIN: fakeCli('codex-cli 0.150.0'),
      PATCHBAY_AGENT_CLAUDE_BIN: fakeCli('2.1.400 (Claude Code)'),
      OPENAI_API_KEY: 'sk-x',
      CLAUDE_CODE_OAUTH_TOKEN: 'tok',
    };
    const res = await doctor(env, true);
    expect(res.code).toBe(0);
    expect(res.agents.codex).toMatchObject({
      status: 'warn',
      versionStatus: 'older',
      problems: [
        expect.objectContaining({
          message: expect.stringContaining('0.150.0 is older than the tested 0.171.0'),
          fix: 'npm install -g @openai/codex@0.171.0',
        }),
      ],
    });
    expect(res.agents.claude).toMatchObject({ status: 'warn', versionStatus: 'newer' });
    const text = await doctor(env, false);
    expect(text.stdout).toContain(
      '! 0.150.0 is older than the tested 0.171.0: flags Patchbay passes may be missing — fix: npm install -g @openai/codex@0.171.0\n',
    );
  });

  it('notes a CLI that is not installed, and fails one configured at a path that is not there', async () => {
    const env = await baseEnv();
    const absent = await doctor(env, false);
    expect(absent.code).toBe(0);
    expect(absent.stdout).toContain(
      '--    agent     gemini: not installed (install: npm install -g @google/gemini-cli@0.61.0)\n',
    );

    const missing = await doctor(
      { ...env, PATCHBAY_AGENT_GEMINI_BIN: '/nonexistent/gemini' },
      false,
    );
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(
      'FAIL  agent     gemini:\n' +
        "                ✗ PATCHBAY_AGENT_GEMINI_BIN=/nonexistent/gemini is not an executable on the runs' PATH — fix: point PATCHBAY_AGENT_GEMINI_BIN at the installed CLI, or install it: npm install -g @google/gemini-cli@0.61.0\n",
    );
  });

  it('fails a CLI that hangs on --version, after the timeout, without hanging itself', async () => {
    const env = { ...(await baseEnv()), PATCHBAY_AGENT_CLAUDE_BIN: HANG };
    const res = await doctor(env, true, 30_000);
    expect(res.signal).toBeNull();
    expect(res.code).toBe(1);
    expect(res.agents.claude).toMatchObject({
      status: 'fail',
      version: null,
      problems: expect.arrayContaining([
        expect.objectContaining({
          severity: 'fail',
          message: `\`${HANG} --version\` did not answer within 10 s`,
        }),
      ]),
    });
    expect(res.durationMs).toBeLessThan(20_000);
  });
});
