import type { Command } from 'commander';
import type { Schedule, ScheduleFire } from '../../contracts/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';
import { addRunRequestOptions, buildRequest, type RunFlags } from './run.js';

/** What a tick did: the run it started (and how it ended), or why it was skipped. */
function describeFire(f: ScheduleFire): string {
  if (f.outcome === 'skipped') {
    return f.error ? `skipped: ${f.error.code} (${f.error.message})` : 'skipped';
  }
  if (f.outcome === 'pending') return 'starting';
  return `started ${f.runId ?? '-'}${f.runStatus ? ` ${f.runStatus}` : ''}`;
}

function describe(s: Schedule): string {
  const state = s.enabled
    ? `next ${s.nextRunAt ?? '-'}`
    : s.pausedReason
      ? `paused: ${s.pausedReason}`
      : 'disabled';
  const what = s.run.command
    ? s.run.command.join(' ')
    : `${s.run.agent ?? 'shell'}: ${s.run.prompt ?? ''}`;
  const last = s.lastFire ? `  last ${s.lastFire.tick}: ${describeFire(s.lastFire)}` : '';
  return `${s.id}  ${s.name ?? '(unnamed)'}  "${s.cron}" ${s.timezone}  ${state}  ${what}${last}`;
}

interface AddFlags extends RunFlags {
  cron: string;
  tz?: string;
  name?: string;
  disabled?: boolean;
  maxFailures?: string;
}

export function registerSchedules(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('Schedules: start a run at every tick of a cron expression (on the server)');
  const add = schedules
    .command('add')
    .description('Create a schedule; the run is described as for `patchbay run`')
    .argument(
      '<command...>',
      'the command and its arguments (after --); for a coding agent, the prompt',
    )
    .passThroughOptions()
    .requiredOption('--cron <expr>', 'cron expression: 5 fields, or 6 with seconds first')
    .option('--tz <zone>', 'IANA time zone of the expression (default UTC)')
    .option('--name <name>', 'a name')
    .option('--disabled', 'create it disabled')
    .option('--max-failures <n>', 'pause after this many failed runs in a row (default 3)');
  addRunRequestOptions(add)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  patchbay schedules add --cron "0 3 * * *" --tz Europe/Berlin --name nightly -- make test\n  patchbay schedules add --cron "0 9 * * 1-5" --agent claude --repo repo_01… -- "triage new issues"',
    )
    .action(async (words: string[], flags: AddFlags & { json?: boolean }, command: Command) => {
      const maxFailures = flags.maxFailures === undefined ? undefined : Number(flags.maxFailures);
      const s = await createContext(command).client.createSchedule({
        cron: flags.cron,
        run: buildRequest(words, flags),
        ...(flags.tz ? { timezone: flags.tz } : {}),
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.disabled ? { enabled: false } : {}),
        ...(maxFailures !== undefined ? { maxConsecutiveFailures: maxFailures } : {}),
      });
      if (flags.json) out.json(s);
      else out.line(s.id);
    });
  schedules
    .command('list')
    .description('List schedules')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { schedules: list } = await createContext(command).client.listSchedules();
      if (opts.json) out.json(list);
      else if (list.length === 0) out.note('no schedules yet (patchbay schedules add --cron …)');
      else for (const s of list) out.line(describe(s));
    });
  schedules
    .command('show')
    .description('Show a schedule and its latest fires')
    .argument('<id>', 'schedule id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const s = await createContext(command).client.getSchedule(id);
      if (opts.json) {
        out.json(s);
        return;
      }
      out.line(describe(s));
      for (const f of s.fires) out.line(`${f.tick}  ${describeFire(f)}`);
    });
  schedules
    .command('rm')
    .description('Delete a schedule (its runs stay)')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await createContext(command).client.deleteSchedule(id);
      out.note(`deleted ${id}`);
    });
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    schedules
      .command(verb)
      .description(enabled ? 'Enable a schedule (clears an automatic pause)' : 'Disable a schedule')
      .argument('<id>', 'schedule id')
      .action(async (id: string, _opts: unknown, command: Command) => {
        const s = await createContext(command).client.updateSchedule(id, { enabled });
        out.line(describe(s));
      });
  }
}
