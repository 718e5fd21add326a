import type { Command } from 'commander';
import { isTerminalStatus, PatchbayError, type RunEvent } from '../../contracts/index.js';
import { toRun, type Store } from '../../store/index.js';
import { createContext, type CliContext } from '../context.js';
import { remoteOrLocal } from '../local.js';
import { describeEnd, exitCodeOf, out, printEvent } from '../output.js';

interface LogsFlags {
  follow?: boolean;
  json?: boolean;
  after: string;
}

async function printRemote(
  ctx: CliContext,
  id: string,
  flags: LogsFlags,
  after: number,
): Promise<void> {
  const state = {};
  if (flags.follow) {
    for await (const event of ctx.client.streamEvents(id, { after, reconnect: true })) {
      printEvent(event, { json: flags.json }, state);
    }
    return;
  }
  let cursor = after;
  for (;;) {
    const page = await ctx.client.listEvents(id, cursor, 1000);
    for (const event of page.events) printEvent(event, { json: flags.json }, state);
    if (page.events.length === 0) return;
    cursor = page.lastSeq;
  }
}

/** Reads the store directly; with --follow, polls it until the run ends. */
async function printLocal(
  store: Store,
  id: string,
  flags: LogsFlags,
  after: number,
): Promise<void> {
  let cursor = after;
  const state = {};
  for (;;) {
    const run = await store.runs.get(id);
    if (!run) throw new PatchbayError('RUN_NOT_FOUND', `no run ${id}`);
    let events: RunEvent[];
    do {
      events = await store.events.list(id, cursor, 1000);
      for (const event of events) printEvent(event, { json: flags.json }, state);
      if (events.length > 0) cursor = events[events.length - 1]!.seq;
    } while (events.length > 0);
    if (!flags.follow || isTerminalStatus(run.status)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("Print a run's output; with -f, follow it until the run ends")
    .argument('<id>', 'run id')
    .option('-f, --follow', 'keep streaming until the run ends')
    .option('--after <seq>', 'start after this event seq', '0')
    .option('--json', 'print events as JSON lines')
    .action(async (id: string, flags: LogsFlags, command: Command) => {
      const ctx = createContext(command);
      const after = Math.max(0, Number(flags.after) || 0);
      await remoteOrLocal(
        ctx,
        () => printRemote(ctx, id, flags, after),
        (store) => printLocal(store, id, flags, after),
      );
      if (flags.follow) {
        const run = await remoteOrLocal(
          ctx,
          () => ctx.client.getRun(id),
          async (store) => toRun((await store.runs.get(id))!),
        );
        if (!flags.json) out.note(describeEnd(run));
        process.exitCode = exitCodeOf(run);
      }
    });
}
