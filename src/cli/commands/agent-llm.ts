import type { Command } from 'commander';
import { runLlmAgent } from '../../agents/index.js';
import { loadConfig } from '../../config/index.js';
import { PatchbayError } from '../../contracts/index.js';
import { createLlmClient } from '../../llm/index.js';
import { createLogger } from '../../observability/index.js';
import { out } from '../output.js';

interface AgentLlmFlags {
  model?: string;
  maxTurns?: string;
  maxCostUsd?: string;
  readOnly?: boolean;
}

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
    .option('--read-only', 'only the tools that change nothing')
    .action(async (words: string[], flags: AgentLlmFlags) => {
      const emit = (line: object): boolean => out.stdout(`${JSON.stringify(line)}\n`);
      const config = loadConfig({ envOnly: true });
      const log = createLogger({ level: 'warn', format: 'json' });
      const maxTurns = positive(flags.maxTurns, '--max-turns');
      const maxCostUsd = positive(flags.maxCostUsd, '--max-cost-usd');
      const { ok } = await runLlmAgent({
        client: createLlmClient({ config, log }),
        cwd: process.cwd(),
        prompt: words.join(' '),
        ...(flags.model ? { model: flags.model } : {}),
        ...(maxTurns !== undefined ? { maxTurns } : {}),
        ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
        readOnly: flags.readOnly === true,
        emit,
      });
      if (!ok) process.exitCode = 1;
    });
}
