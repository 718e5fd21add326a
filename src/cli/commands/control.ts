import type { Command } from 'commander';
import { createContext } from '../context.js';
import { out } from '../output.js';

export function registerControl(program: Command): void {
  const verbs = {
    cancel: 'Cancel a run (SIGTERM to its process group, SIGKILL after the grace)',
    pause: 'Pause a run (SIGSTOP to its process group)',
    resume: 'Resume a paused run (SIGCONT)',
    interrupt: "End an agent's current turn, keeping its session (SIGINT)",
  } as const;
  for (const [verb, description] of Object.entries(verbs) as [keyof typeof verbs, string][]) {
    program
      .command(verb)
      .description(description)
      .argument('<id>', 'run id')
      .option('--json', 'print the run as JSON')
      .action(async (id: string, opts: { json?: boolean }, command: Command) => {
        const ctx = createContext(command);
        const run =
          verb === 'cancel'
            ? await ctx.client.cancelRun(id)
            : verb === 'pause'
              ? await ctx.client.pauseRun(id)
              : verb === 'resume'
                ? await ctx.client.resumeRun(id)
                : await ctx.client.interruptRun(id);
        if (opts.json) out.json(run);
        else out.line(`${run.id} ${run.status}`);
      });
  }
}
