import { Command } from 'commander';
import { packageVersion } from '../config/index.js';
import { registerBudgets } from './commands/budgets.js';
import { registerControl } from './commands/control.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLogs } from './commands/logs.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOptimize } from './commands/optimize.js';
import { registerRepos } from './commands/repos.js';
import { registerConversations } from './commands/conversations.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedules } from './commands/schedules.js';
import { registerServe, registerWorker } from './commands/serve.js';
import { registerWorkers } from './commands/workers.js';

export function createProgram(): Command {
  const program = new Command('patchbay')
    .description('Self-hosted control plane for AI coding agents')
    .version(packageVersion())
    .option('--config <file>', 'config file (default ./patchbay.config.json; PATCHBAY_CONFIG)')
    .option('--url <url>', 'server to talk to (PATCHBAY_URL)')
    .showHelpAfterError()
    .enablePositionalOptions();
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
  registerDoctor(program);
  return program;
}
