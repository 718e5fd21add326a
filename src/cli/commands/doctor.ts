import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  checkAgentCli,
  cliFacts,
  listAgents,
  type CliAgentName,
  type CliCheck,
  type CredentialSource,
} from '../../agents/index.js';
import { settings, type SettingKey } from '../../config/index.js';
import { assertNever, isPatchbayError } from '../../contracts/index.js';
import { resolveContainment } from '../../engine/index.js';
import { loadPty } from '../../exec/index.js';
import { isPostgresUrl, migrationStatus, openDatabase } from '../../store/index.js';
import { probeBwrap } from '../../workspaces/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

type Check = { name: string; ok: boolean; detail: string };

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check this machine and configuration: store, data dir, PTY, server, agents')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const ctx = createContext(command);
      const checks: Check[] = [];
      const major = Number(process.versions.node.split('.')[0]);
      checks.push({ name: 'node', ok: major >= 20, detail: process.version });
      try {
        await mkdir(ctx.config.dataDir, { recursive: true });
        await access(ctx.config.dataDir, constants.W_OK);
        checks.push({ name: 'data dir', ok: true, detail: ctx.config.dataDir });
      } catch (err) {
        checks.push({
          name: 'data dir',
          ok: false,
          detail: `${ctx.config.dataDir}: ${(err as Error).message}`,
        });
      }
      const handle = await openDatabase(ctx.config.databaseUrl);
      try {
        const status = await migrationStatus(handle.db as never);
        const pending = status.filter((m) => !m.executedAt).length;
        checks.push({
          name: 'store',
          ok: true,
          detail: `${handle.dialect} at ${handle.location}; ${pending === 0 ? 'migrations up to date' : `${pending} migration(s) pending (run \`patchbay migrate\`)`}`,
        });
      } catch (err) {
        checks.push({ name: 'store', ok: false, detail: (err as Error).message });
      } finally {
        await handle.db.destroy();
      }
      try {
        const version = await probeBwrap(ctx.config.sandboxBwrapBin);
        checks.push({
          name: 'sandbox',
          ok: true,
          detail: `bwrap works (${version}); PATCHBAY_SANDBOX=${ctx.config.sandbox}`,
        });
      } catch (err) {
        // Only a failure when the configuration asks for the sandbox.
        checks.push({
          name: 'sandbox',
          ok: ctx.config.sandbox !== 'bwrap',
          detail: `${(err as Error).message}${ctx.config.sandbox === 'bwrap' ? '' : ' (PATCHBAY_SANDBOX=none: runs are not sandboxed)'}`,
        });
      }
      // What keeps a run from outliving itself: what the server will use, or why it refuses.
      try {
        const containment = await resolveContainment(ctx.config);
        checks.push({
          name: 'contain',
          ok: true,
          detail: `${containment.kind}: ${containment.detail}`,
        });
      } catch (err) {
        checks.push({ name: 'contain', ok: false, detail: (err as Error).message });
      }
      const pty = await loadPty();
      checks.push({
        name: 'pty',
        ok: pty !== null,
        detail: pty
          ? 'node-pty available'
          : 'node-pty not installed (runs with pty:true are refused)',
      });
      try {
        const health = await ctx.client.health();
        checks.push({
          name: 'server',
          ok: true,
          detail: `${ctx.serverUrl} answers (version ${health.version})`,
        });
      } catch (err) {
        checks.push({
          name: 'server',
          ok: !ctx.explicitServer,
          detail: isPatchbayError(err)
            ? `${ctx.serverUrl}: ${err.code}${ctx.explicitServer ? '' : ' (no server running; `patchbay run` works embedded)'}`
            : String(err),
        });
      }
      checks.push({
        name: 'security',
        ok: true,
        detail: `binds ${ctx.config.host}; API tokens ${ctx.config.apiTokens.length > 0 ? 'set' : 'not set'}; allowed commands: ${ctx.config.allowedCommands?.join(',') ?? 'any'}`,
      });
      // Never opens (or creates) the key file: it only says which key would seal run env values.
      const unsealed = !ctx.config.secretsKey && isPostgresUrl(ctx.config.databaseUrl);
      checks.push({
        name: 'secrets',
        ok: !unsealed,
        detail: ctx.config.secretsKey
          ? "runs' env values sealed with PATCHBAY_SECRETS_KEY"
          : unsealed
            ? "runs' env values stored unsealed in PostgreSQL: set PATCHBAY_SECRETS_KEY (the same on every node)"
            : `runs' env values sealed with ${join(ctx.config.dataDir, 'secrets.key')} (created on first use)`,
      });
      const agents = await Promise.all(
        listAgents().map(async (a) => {
          const capabilities = Object.entries(a.capabilities)
            .filter(([, v]) => v)
            .map(([k]) => k);
          if (a.name === 'shell' || a.name === 'llm') {
            return { name: a.name, status: 'ok', installed: true, path: 'built in', capabilities };
          }
          const key = binSettings[a.name];
          const bin = ctx.config[key];
          const check = await checkAgentCli(a.name, {
            bin,
            binSetting: settings[key].env,
            explicitBin: bin !== settings[key].schema.parse(undefined),
            install: a.install ?? '',
            childEnv: ctx.config.childEnvBase,
            agentCredentials: ctx.config.agentCredentialValues[a.name],
            agentCredentialsMode: ctx.config.agentCredentials,
          });
          return {
            ...check,
            installed: check.path !== null,
            install: a.install ?? null,
            capabilities,
          };
        }),
      );
      if (opts.json) {
        out.json({ checks, agents });
      } else {
        for (const c of checks)
          out.line(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(9)} ${c.detail}`);
        for (const a of agents) {
          if (!('problems' in a)) {
            out.line(`ok    agent     ${a.name}: ${a.path}`);
            continue;
          }
          for (const line of describeAgent(a, ctx.config.childEnvBase.HOME)) out.line(line);
        }
      }
      if (checks.some((c) => !c.ok) || agents.some((a) => a.status === 'fail')) {
        process.exitCode = 1;
      }
    });
}

const binSettings = {
  claude: 'agentClaudeBin',
  codex: 'agentCodexBin',
  gemini: 'agentGeminiBin',
  cursor: 'agentCursorBin',
} as const satisfies Record<CliAgentName, SettingKey>;

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', absent: '--  ' } as const;

/** An agent CLI's lines: what was found, then one line per problem with its fix. */
function describeAgent(
  a: CliCheck & { install: string | null },
  home: string | undefined,
): string[] {
  const indent = ' '.repeat(16);
  const head = `${MARK[a.status]}  agent     ${a.name}`;
  if (a.status === 'absent') {
    const pinned = cliFacts[a.name].tested;
    const install = pinned ? `npm install -g ${pinned.package}@${pinned.version}` : a.install;
    return [`${head}: not installed${install ? ` (install: ${install})` : ''}`];
  }
  const tested = a.tested === null ? 'not tested against a real binary' : `tested: ${a.tested}`;
  const lines = [
    a.path === null
      ? `${head}:`
      : `${head} ${a.version ?? '(version unknown)'} (${tested}) at ${a.path}`,
  ];
  if (a.path !== null) {
    const named = a.credentials.map((c) => describeCredential(c, home));
    lines.push(`${indent}credentials: ${named.length > 0 ? named.join(', ') : 'none found'}`);
  }
  for (const p of a.problems) {
    lines.push(`${indent}${p.severity === 'fail' ? '✗' : '!'} ${p.message} — fix: ${p.fix}`);
  }
  return lines;
}

function describeCredential(c: CredentialSource, home: string | undefined): string {
  const short = (path: string): string =>
    home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
  switch (c.kind) {
    case 'env':
      return `${c.names.join(' + ')} (${c.from === 'agent-credentials' ? "server's environment" : 'PATCHBAY_CHILD_ENV_ALLOWLIST'})`;
    case 'login':
      return `login ${short(c.path)}`;
    case 'provider':
      return `provider \`${c.provider}\` of ${short(c.path)} (no key)`;
    default:
      return assertNever(c);
  }
}
