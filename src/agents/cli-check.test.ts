import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkAgentCli,
  parseCodexProvider,
  probeVersion,
  type CliCheckOptions,
} from './cli-check.js';

const root = mkdtempSync(join(tmpdir(), 'patchbay-cli-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// The scripts need only sh and sleep.
const PATH = '/usr/local/bin:/usr/bin:/bin';

let n = 0;
/** An executable script in a fresh dir: `body` runs for any argument. */
function script(body: string): string {
  const dir = join(root, `bin${n++}`);
  mkdirSync(dir);
  const file = join(dir, 'cli');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function options(bin: string, over: Partial<CliCheckOptions> = {}): CliCheckOptions {
  return {
    bin,
    binSetting: 'PATCHBAY_AGENT_CODEX_BIN',
    explicitBin: true,
    install: 'npm install -g @openai/codex',
    childEnv: { PATH, HOME: join(root, 'nohome') },
    agentCredentials: {},
    agentCredentialsMode: 'auto',
    ...over,
  };
}

describe('probeVersion', () => {
  it('gives up on a CLI that hangs, and on what it started, within the timeout', async () => {
    // The loop's `sleep` holds stdout open: killing only the shell would leave us waiting.
    const hang = script('echo starting; while :; do sleep 1; done');
    const started = Date.now();
    expect(await probeVersion(hang, { PATH }, 500)).toEqual({ kind: 'timeout', timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a non-zero exit with its last stderr line', async () => {
    const broken = script('echo "error: missing module" >&2; exit 3');
    expect(await probeVersion(broken, { PATH }, 5000)).toEqual({
      kind: 'failed',
      detail: 'exited with 3: error: missing module',
    });
  });
});

describe('checkAgentCli', () => {
  it('passes a tested version with a key runs get from the server', async () => {
    const codex = script('echo "codex-cli 0.171.0"');
    const check = await checkAgentCli(
      'codex',
      options(codex, { agentCredentials: { OPENAI_API_KEY: 'sk-never-shown' } }),
    );
    expect(check).toMatchObject({
      status: 'ok',
      version: '0.171.0',
      versionLine: 'codex-cli 0.171.0',
      versionStatus: 'tested',
      credentials: [{ kind: 'env', names: ['OPENAI_API_KEY'], from: 'agent-credentials' }],
      problems: [],
    });
    expect(JSON.stringify(check)).not.toContain('sk-never-shown');
  });

  it('warns about a version outside the tested one, with the pinned install as the fix', async () => {
    const older = await checkAgentCli(
      'codex',
      options(script('echo "codex-cli 0.150.0"'), { childEnv: { PATH, CODEX_API_KEY: 'k' } }),
    );
    expect(older.status).toBe('warn');
    expect(older.versionStatus).toBe('older');
    expect(older.credentials).toEqual([
      { kind: 'env', names: ['CODEX_API_KEY'], from: 'child-env' },
    ]);
    expect(older.problems).toEqual([
      expect.objectContaining({
        severity: 'warn',
        message: expect.stringContaining('0.150.0 is older than the tested 0.171.0'),
        fix: 'npm install -g @openai/codex@0.171.0',
      }),
    ]);
    const newer = await checkAgentCli(
      'gemini',
      options(script('echo 0.70.1'), { agentCredentials: { GEMINI_API_KEY: 'k' } }),
    );
    expect(newer).toMatchObject({ status: 'warn', versionStatus: 'newer' });
  });

  it('finds a login file under the HOME runs get', async () => {
    const home = join(root, 'home-login');
    mkdirSync(join(home, '.gemini'), { recursive: true });
    const gemini = script('echo 0.61.0');
    const without = await checkAgentCli(
      'gemini',
      options(gemini, { childEnv: { PATH, HOME: home } }),
    );
    expect(without.status).toBe('warn');
    expect(without.problems[0]).toMatchObject({
      message: 'no credentials for its runs',
      fix: expect.stringContaining('set GEMINI_API_KEY'),
    });
    writeFileSync(join(home, '.gemini', 'oauth_creds.json'), '{}');
    const withLogin = await checkAgentCli(
      'gemini',
      options(gemini, { childEnv: { PATH, HOME: home } }),
    );
    expect(withLogin).toMatchObject({
      status: 'ok',
      credentials: [{ kind: 'login', path: join(home, '.gemini', 'oauth_creds.json') }],
    });
  });

  it('counts Vertex AI only with the project it needs', async () => {
    const gemini = script('echo 0.61.0');
    const half = await checkAgentCli(
      'gemini',
      options(gemini, { agentCredentials: { GOOGLE_GENAI_USE_VERTEXAI: 'true' } }),
    );
    expect(half.credentials).toEqual([]);
    const whole = await checkAgentCli(
      'gemini',
      options(gemini, {
        agentCredentials: {
          GOOGLE_GENAI_USE_VERTEXAI: 'true',
          GOOGLE_CLOUD_PROJECT: 'p',
          GOOGLE_CLOUD_LOCATION: 'us-central1',
        },
      }),
    );
    expect(whole.status).toBe('ok');
  });

  it('says how to fix credentials when PATCHBAY_AGENT_CREDENTIALS=none', async () => {
    const check = await checkAgentCli(
      'claude',
      options(script('echo "2.1.332 (Claude Code)"'), { agentCredentialsMode: 'none' }),
    );
    expect(check.problems[0]?.fix).toMatch(
      /^PATCHBAY_AGENT_CREDENTIALS=none: give each run ANTHROPIC_API_KEY/,
    );
  });

  it('fails a CLI that hangs or breaks on --version, and a configured binary that is missing', async () => {
    const hung = await checkAgentCli(
      'codex',
      options(script('sleep 30'), {
        versionTimeoutMs: 300,
        agentCredentials: { OPENAI_API_KEY: 'k' },
      }),
    );
    expect(hung).toMatchObject({ status: 'fail', version: null });
    expect(hung.problems[0]?.message).toMatch(/did not answer within 0.3 s/);

    const missing = await checkAgentCli('codex', options(join(root, 'nowhere', 'codex')));
    expect(missing).toMatchObject({ status: 'fail', path: null });
    expect(missing.problems[0]?.fix).toBe(
      'point PATCHBAY_AGENT_CODEX_BIN at the installed CLI, or install it: npm install -g @openai/codex@0.171.0',
    );
    // The default name, not on PATH: not installed, which is no failure.
    const absent = await checkAgentCli(
      'codex',
      options('codex-not-on-path', { explicitBin: false, childEnv: { PATH: root } }),
    );
    expect(absent).toMatchObject({ status: 'absent', problems: [] });
  });

  it("does not compare cursor's version: it never ran against a real binary", async () => {
    const check = await checkAgentCli(
      'cursor',
      options(script('echo 2025.09.18-7ae6800'), { agentCredentials: { CURSOR_API_KEY: 'k' } }),
    );
    expect(check).toMatchObject({ status: 'ok', tested: null, versionStatus: 'untested' });
  });

  it('follows a codex provider from config.toml: its env_key, or none needed', async () => {
    const home = join(root, 'home-codex');
    mkdirSync(join(home, '.codex'), { recursive: true });
    const codex = script('echo "codex-cli 0.171.0"');
    writeFileSync(
      join(home, '.codex', 'config.toml'),
      'model_provider = "azure"\n\n[model_providers.azure]\nname = "Azure"\nenv_key = "AZURE_OPENAI_API_KEY"\n',
    );
    // OPENAI_API_KEY does not help a provider that reads another key.
    const missing = await checkAgentCli(
      'codex',
      options(codex, { childEnv: { PATH, HOME: home }, agentCredentials: { OPENAI_API_KEY: 'k' } }),
    );
    expect(missing.credentials).toEqual([]);
    expect(missing.problems[0]?.fix).toBe(
      "add AZURE_OPENAI_API_KEY to PATCHBAY_CHILD_ENV_ALLOWLIST and set it in the server's environment",
    );
    const present = await checkAgentCli(
      'codex',
      options(codex, { childEnv: { PATH, HOME: home, AZURE_OPENAI_API_KEY: 'k' } }),
    );
    expect(present).toMatchObject({ status: 'ok' });

    writeFileSync(join(home, '.codex', 'config.toml'), "model_provider = 'ollama'\n");
    const local = await checkAgentCli('codex', options(codex, { childEnv: { PATH, HOME: home } }));
    expect(local).toMatchObject({
      status: 'ok',
      credentials: [{ kind: 'provider', provider: 'ollama' }],
    });
  });
});

describe('parseCodexProvider', () => {
  it('reads the top-level provider and its env_key, ignoring other tables', () => {
    expect(
      parseCodexProvider(
        [
          'model = "gpt-5"',
          'model_provider = "gw"',
          '[profiles.x]',
          'model_provider = "other"',
          '[model_providers."gw"]',
          'env_key = "GW_KEY" # comment',
          '[model_providers.other]',
          'env_key = "OTHER_KEY"',
        ].join('\n'),
      ),
    ).toEqual({ name: 'gw', envKey: 'GW_KEY' });
    expect(parseCodexProvider('model_provider = "openai"\n')).toBeNull();
    expect(parseCodexProvider('[model_providers.x]\nenv_key = "X"\n')).toBeNull();
  });
});
