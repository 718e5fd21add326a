import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { z } from 'zod';
import { runLlmAgent, runLlmPatch } from '../../agents/index.js';
import { loadConfig } from '../../config/index.js';
import { LlmRepoSettings, PatchbayError } from '../../contracts/index.js';
import {
  createLlmClient,
  readRepoLlmFile,
  type LlmClient,
  type LlmLedger,
} from '../../llm/index.js';
import { createLogger } from '../../observability/index.js';
import { out } from '../output.js';

interface AgentLlmFlags {
  model?: string;
  maxTurns?: string;
  maxCostUsd?: string;
  readOnly?: boolean;
  commands?: boolean;
  allowedCommands?: string;
  commandTimeoutMs?: string;
  settingsStdin?: boolean;
  mode?: string;
  file: string[];
}

/**
 * The first line of stdin, `{ settings: { PATCHBAY_…: value }, session?: { id, messages } }`
 * (the session: the one to resume, with its stored transcript), then stdin is let go.
 */
export async function readSettings(): Promise<SettingsLine> {
  const lines = createInterface({ input: process.stdin });
  try {
    for await (const line of lines) {
      const parsed = SettingsLine.safeParse(JSON.parse(line));
      if (!parsed.success) break;
      return parsed.data;
    }
  } catch {
    // not JSON: refused below
  } finally {
    lines.close();
    process.stdin.destroy();
  }
  throw new PatchbayError('VALIDATION_FAILED', 'the first line of stdin is not the settings');
}

const SettingsLine = z.object({
  settings: z.record(z.string(), z.string()),
  session: z.object({ id: z.string(), messages: z.array(z.unknown()) }).optional(),
  /** A repository run's repository: its model choice, under the request's and over ours. */
  repo: z.object({ id: z.string(), llm: LlmRepoSettings.nullable() }).optional(),
});
type SettingsLine = z.infer<typeof SettingsLine>;

const collect = (value: string, all: string[]): string[] => [...all, value];

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new PatchbayError('VALIDATION_FAILED', `${flag} must be a positive number`);
  }
  return n;
}

/**
 * `patchbay agent llm -- <prompt>`: the built-in `llm` agent's loop in the current directory,
 * printing NDJSON for the server's parser (src/agents/llm/protocol.ts). Started by the server
 * as a run's process, not by hand: its model settings come from its env only, never from a
 * config file in the run's directory (which is the repository's, not the operator's).
 */
export function registerAgentLlm(program: Command): void {
  program
    .command('agent', { hidden: true })
    .description('Built-in agents run by the server (internal)')
    .command('llm')
    .description("Run the llm agent's tool loop here, printing NDJSON (internal)")
    .argument('<prompt...>', 'the task')
    .option('--model <model>', 'model to call (default: the configured one)')
    .option('--max-turns <n>', 'model calls at most')
    .option('--max-cost-usd <usd>', "cap on the calls' cost")
    .option('--mode <mode>', '`agent` (turns with tools) or `patch` (one call, edits to --file)')
    .option('--file <path>', 'with --mode patch: a file it may edit (repeatable)', collect, [])
    .option('--settings-stdin', 'read the model settings from the first line of stdin')
    .option('--read-only', 'only the tools that change nothing')
    .option('--commands', 'let the model run commands')
    .option(
      '--allowed-commands <names>',
      'with --commands: only these executables (comma-separated)',
    )
    .option('--command-timeout-ms <ms>', "with --commands: one command's time limit", '120000')
    .action(async (words: string[], flags: AgentLlmFlags) => {
      const emit = (line: object): boolean => out.stdout(`${JSON.stringify(line)}\n`);
      // The server's settings, then the run's own env over them (a run may name its model).
      const input = flags.settingsStdin ? await readSettings() : { settings: {} };
      const config = loadConfig({ envOnly: true, envDefaults: input.settings });
      const log = createLogger({ level: 'warn', format: 'json' });
      const maxTurns = positive(flags.maxTurns, '--max-turns');
      const maxCostUsd = positive(flags.maxCostUsd, '--max-cost-usd');
      // Interrupt (SIGINT to the run's process group): the call or tool under way stops, the
      // session is kept, the result line still comes.
      const interrupt = new AbortController();
      process.on('SIGINT', () => interrupt.abort(new Error('interrupted')));
      const client = (ledger: LlmLedger): LlmClient => {
        const repo = input.repo;
        const llm = createLlmClient({
          config,
          log,
          ledger,
          // The repository's settings, then its .patchbay.json (the worktree's copy).
          repoLayers: async () => ({
            repo: repo?.llm ?? null,
            repoFile: await readRepoLlmFile(process.cwd()),
          }),
        });
        if (!repo) return llm;
        return {
          complete: (request) => llm.complete({ ...request, repoId: repo.id }),
          stream: (request) => llm.stream({ ...request, repoId: repo.id }),
        };
      };
      if (flags.mode === 'patch') {
        const { ok } = await runLlmPatch({
          client,
          signal: interrupt.signal,
          cwd: process.cwd(),
          prompt: words.join(' '),
          files: flags.file,
          ...(flags.model ? { model: flags.model } : {}),
          emit,
        });
        if (!ok) process.exitCode = 1;
        return;
      }
      const { ok } = await runLlmAgent({
        client,
        signal: interrupt.signal,
        ...(input.session
          ? { resume: { sessionId: input.session.id, messages: input.session.messages } }
          : {}),
        cwd: process.cwd(),
        prompt: words.join(' '),
        ...(flags.model ? { model: flags.model } : {}),
        ...(maxTurns !== undefined ? { maxTurns } : {}),
        ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
        policy: {
          readOnly: flags.readOnly === true,
          commands: flags.commands
            ? {
                timeoutMs: positive(flags.commandTimeoutMs, '--command-timeout-ms') ?? 120_000,
                env: config.childEnvBase,
                ...(flags.allowedCommands
                  ? { allowed: flags.allowedCommands.split(',').filter(Boolean) }
                  : {}),
              }
            : null,
        },
        emit,
      });
      if (!ok) process.exitCode = 1;
    });
}
