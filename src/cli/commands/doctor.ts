import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { findExecutable, listAgents } from '../../agents/index.js';
import { agentCredentialEnv, type CredentialAgent } from '../../config/index.js';
import { isPatchbayError } from '../../contracts/index.js';
import { resolveContainment } from '../../engine/index.js';
import { loadPty } from '../../exec/index.js';
import { isPostgresUrl, migrationStatus, openDatabase } from '../../store/index.js';
import { probeBwrap } from '../../workspaces/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

type Check = { name: string; ok: boolean; detail: string };

/** First line of `<bin> --version` (3 s at most, stdin closed), or null. */
function versionOf(bin: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 3000, encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? null : (stdout.trim().split('\n')[0] ?? null) || null);
    }).stdin?.end();
  });
}

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
      const bins: Record<string, string> = {
        claude: ctx.config.agentClaudeBin,
        cursor: ctx.config.agentCursorBin,
        codex: ctx.config.agentCodexBin,
        gemini: ctx.config.agentGeminiBin,
      };
      const agents = await Promise.all(
        listAgents().map(async (a) => {
          const bin = bins[a.name];
          const found = bin ? await findExecutable(bin, ctx.config.childEnvBase.PATH) : 'built in';
          const version = bin && found ? await versionOf(found) : null;
          // Names only, never values: which of the provider's variables its runs will get.
          const credentials =
            a.name in ctx.config.agentCredentialValues
              ? Object.keys(ctx.config.agentCredentialValues[a.name as CredentialAgent])
              : null;
          return {
            name: a.name,
            installed: found !== undefined,
            path: found ?? null,
            version,
            credentials,
            install: a.install ?? null,
            capabilities: Object.entries(a.capabilities)
              .filter(([, v]) => v)
              .map(([k]) => k),
          };
        }),
      );
      if (opts.json) {
        out.json({ checks, agents });
      } else {
        for (const c of checks)
          out.line(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(9)} ${c.detail}`);
        for (const a of agents) {
          const where = a.installed
            ? `${a.path}${a.version ? ` ${a.version}` : ''}`
            : `not installed${a.install ? `: ${a.install}` : ''}`;
          const mark = a.installed ? 'ok  ' : '--  ';
          out.line(`${mark}  agent     ${a.name}: ${where} (${a.capabilities.join(', ')})`);
          if (a.installed && a.credentials) {
            out.line(
              a.credentials.length > 0
                ? `          credentials: ${a.credentials.join(', ')} from the server's environment`
                : `          credentials: none in the server's environment (${agentCredentialEnv[a.name as CredentialAgent][0]}); its own login under HOME may still work`,
            );
          }
        }
      }
      if (checks.some((c) => !c.ok)) process.exitCode = 1;
    });
}
