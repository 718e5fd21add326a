import type { Command } from 'commander';
import { createContext } from '../context.js';
import { out } from '../output.js';

export function registerWorkers(program: Command): void {
  program
    .command('workers')
    .description('List servers and workers: role, host, state, queues, the runs each holds')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { workers } = await createContext(command).client.listWorkers();
      if (opts.json) {
        out.json(workers);
        return;
      }
      if (workers.length === 0) out.note('no server or worker has registered yet');
      for (const w of workers) {
        const queues = w.queues.length > 0 ? w.queues.join(',') : '-';
        const load = w.queues.length > 0 ? `${w.running.length}/${w.concurrency}` : '-';
        out.line(
          `${w.id}  ${w.role.padEnd(6)}  ${w.state.padEnd(8)}  ${w.hostname}:${w.pid}  queues ${queues}  runs ${load}  heartbeat ${w.heartbeatAt}`,
        );
      }
    });
}
