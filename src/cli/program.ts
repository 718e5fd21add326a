import { Command, Option } from 'commander';
import { packageVersion } from '../config/index.js';
import { registerAgentLlm } from './commands/agent-llm.js';
import { registerBudgets } from './commands/budgets.js';
import { registerControl } from './commands/control.js';
import { registerDiff } from './commands/diff.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLogs } from './commands/logs.js';
import { registerMcp } from './commands/mcp.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOptimize } from './commands/optimize.js';
import { registerRepos } from './commands/repos.js';
import { registerConversations } from './commands/conversations.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedules } from './commands/schedules.js';
import { registerServe, registerWorker } from './commands/serve.js';
import { registerWorkers } from './commands/workers.js';

/**
 * Options every command takes, before or after its name (`patchbay --url X runs` and
 * `patchbay runs --url X` mean the same): the program declares them for the words before the
 * subcommand, and each command again for the words after it. `createContext` merges both.
 */
const connectionOptions = (): Option[] => [
  new Option('--config <file>', 'config file (default ./patchbay.config.json; PATCHBAY_CONFIG)'),
  new Option('--url <url>', 'server to talk to (PATCHBAY_URL)'),
  new Option('--data-dir <dir>', 'data directory: the local store (PATCHBAY_DATA_DIR)'),
  new Option('--token <token>', 'bearer token for the server (PATCHBAY_TOKEN; prefer the env)'),
];

function addConnectionOptions(command: Command): void {
  for (const option of connectionOptions()) {
    // serve and worker declare --data-dir themselves, with their own help text.
    if (!command.options.some((o) => o.long === option.long)) command.addOption(option);
  }
  for (const sub of command.commands) addConnectionOptions(sub);
}

export function createProgram(): Command {
  const program = new Command('patchbay')
    .description('Self-hosted control plane for AI coding agents')
    .version(packageVersion())
    .showHelpAfterError()
    .enablePositionalOptions()
    // Usage errors throw (exit code 2, see main.ts) instead of exiting 1 inside commander.
    .exitOverride();
  registerServe(program);
  registerWorker(program);
  registerWorkers(program);
  registerRun(program);
  registerRuns(program);
  registerLogs(program);
  registerControl(program);
  registerRepos(program);
  registerConversations(program);
  registerBudgets(program);
  registerSchedules(program);
  registerOptimize(program);
  registerMigrate(program);
  registerKeys(program);
  registerDoctor(program);
  registerDiff(program);
  registerAgentLlm(program);
  registerMcp(program);
  addConnectionOptions(program);
  return program;
}
