import type { Command } from 'commander';
import { PatchbayError, RunStatus, type Run } from '../../contracts/index.js';
import { toRun } from '../../store/index.js';
import { createContext } from '../context.js';
import { remoteOrLocal } from '../local.js';
import { formatRunRow, out } from '../output.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('List runs, newest first')
    .option('--status <list>', 'only these statuses (comma-separated)')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { status?: string; limit: string; json?: boolean }, command: Command) => {
      const ctx = createContext(command);
      const statuses = opts.status?.split(',').map((s) => {
        const parsed = RunStatus.safeParse(s.trim());
        if (!parsed.success) throw new PatchbayError('VALIDATION_FAILED', `unknown status ${s}`);
        return parsed.data;
      });
      const limit = Math.min(200, Math.max(1, Number(opts.limit) || 20));
      const runs: Run[] = await remoteOrLocal(
        ctx,
        async () => (await ctx.client.listRuns({ status: statuses, limit })).runs,
        async (store) => (await store.runs.list({ statuses, limit })).map(toRun),
      );
      if (opts.json) {
        out.json(runs);
        return;
      }
      if (runs.length === 0) {
        out.note('no runs yet');
        return;
      }
      for (const run of runs) out.line(formatRunRow(run));
    });
}
