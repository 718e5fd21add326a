import type { Command } from 'commander';
import {
  CreateRunRequest,
  PatchbayError,
  type ChangedFile,
  type Run,
  type RunEvent,
} from '../../contracts/index.js';
import { createContext, type CliContext } from '../context.js';
import { openEmbedded } from '../embedded.js';
import {
  describeChanges,
  describeEnd,
  describeGates,
  exitCodeOf,
  out,
  printEvent,
} from '../output.js';

/** Flags that describe a run request (shared by `run` and `schedules add`). */
export interface RunFlags {
  agent?: string;
  workdir?: string;
  repo?: string;
  ref?: string;
  model?: string;
  network?: boolean;
  conversation?: string;
  workspaceOf?: string;
  resume?: string;
  timeout?: string;
  idleTimeout?: string;
  maxOutput?: string;
  outputPolicy?: string;
  validate?: string;
  maxFixRounds?: string;
  env: string[];
  pty?: boolean;
  follow?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function parseEnv(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new PatchbayError('VALIDATION_FAILED', `--env expects KEY=VALUE, got ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function toInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new PatchbayError(
      'VALIDATION_FAILED',
      `${flag} expects a positive whole number, got ${value}`,
    );
  return n;
}

/** The run request that `words` (argv, or the prompt of a coding agent) and the flags describe. */
export function buildRequest(words: string[], flags: RunFlags): CreateRunRequest {
  const request: CreateRunRequest = {};
  if (flags.agent) request.agent = flags.agent as CreateRunRequest['agent'];
  // Coding agents (and conversations, which always have one) take a prompt; shell an argv.
  if ((flags.agent && flags.agent !== 'shell') || flags.conversation) {
    request.prompt = words.join(' ');
  } else {
    request.command = words;
  }
  if (flags.workdir) request.workdir = flags.workdir;
  if (flags.repo) request.repo = flags.repo;
  if (flags.ref) request.ref = flags.ref;
  if (flags.model) request.model = flags.model;
  if (flags.network) request.network = true;
  if (flags.conversation) request.conversationId = flags.conversation;
  if (flags.workspaceOf) request.workspaceOf = flags.workspaceOf;
  if (flags.resume) request.resumeSessionId = flags.resume;
  const timeoutMs = toInt(flags.timeout, '--timeout');
  if (timeoutMs) request.timeoutMs = timeoutMs;
  const idle = toInt(flags.idleTimeout, '--idle-timeout');
  if (idle) request.idleTimeoutMs = idle;
  const maxOutput = toInt(flags.maxOutput, '--max-output');
  if (maxOutput) request.maxOutputBytes = maxOutput;
  if (flags.outputPolicy) request.outputPolicy = flags.outputPolicy as 'kill' | 'truncate';
  // The server checks the value: a wrong one is refused with the list of modes.
  if (flags.validate) request.validate = flags.validate as CreateRunRequest['validate'];
  const rounds = toInt(flags.maxFixRounds, '--max-fix-rounds');
  if (rounds) request.maxFixRounds = rounds;
  const env = parseEnv(flags.env);
  if (env) request.env = env;
  if (flags.pty) request.pty = true;
  return request;
}

async function follow(events: AsyncIterable<RunEvent>, flags: RunFlags): Promise<void> {
  const state = {};
  for await (const event of events) {
    printEvent(event, { json: flags.json, quiet: flags.quiet }, state);
  }
}

async function runRemote(
  ctx: CliContext,
  request: CreateRunRequest,
  flags: RunFlags,
): Promise<number> {
  const run = await ctx.client.createRun(request);
  if (flags.follow === false) {
    if (flags.json) out.json(run);
    else out.line(run.id);
    return 0;
  }
  if (!flags.quiet && !flags.json) out.note(`run ${run.id} queued on ${ctx.serverUrl}`);
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    out.note(`cancelling ${run.id} (Ctrl-C again to leave it running)`);
    void ctx.client.cancelRun(run.id).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    await follow(ctx.client.streamEvents(run.id, { reconnect: true }), flags);
  } finally {
    process.off('SIGINT', onSigint);
  }
  return finish(
    await ctx.client.getRun(run.id),
    flags,
    async (id) => (await ctx.client.getChangedFiles(id)).files,
  );
}

async function runEmbedded(
  ctx: CliContext,
  request: CreateRunRequest,
  flags: RunFlags,
): Promise<number> {
  const embedded = await openEmbedded(ctx);
  try {
    const parsed = CreateRunRequest.parse(request);
    const run = await embedded.engine.createRun(parsed);
    if (!flags.quiet && !flags.json)
      out.note(`run ${run.id} (embedded, data: ${ctx.config.dataDir})`);
    const onSigint = (): void => {
      out.note(`cancelling ${run.id}`);
      void embedded.engine.cancelRun(run.id).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      const cursor = await embedded.engine.openCursor(run.id, 0);
      const events = (async function* () {
        for (;;) {
          const batch = await cursor.next();
          if (!batch) return;
          yield* batch;
        }
      })();
      await follow(events, flags);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    return await finish(await embedded.engine.getRun(run.id), flags, (id) =>
      embedded.engine.getChangedFiles(id),
    );
  } finally {
    await embedded.close();
  }
}

/**
 * Reports how the run ended and returns its exit code. A repository run also says where its
 * work is: the branch and the files it changed (`patchbay diff <run>` prints the diff).
 */
async function finish(
  run: Run,
  flags: RunFlags,
  changedFiles: (id: string) => Promise<ChangedFile[]>,
): Promise<number> {
  // A run that failed before it recorded its changes has none to show.
  const files = run.branch ? await changedFiles(run.id).catch(() => null) : null;
  if (flags.json) {
    out.stdout(`${JSON.stringify(files ? { run, files } : { run })}\n`);
  } else {
    if (!flags.quiet || run.status !== 'succeeded') out.note(describeEnd(run));
    if (files && run.branch && !flags.quiet) {
      for (const line of describeChanges(run.branch, files)) out.note(line);
      if (files.length > 0) out.note(`see the diff: patchbay diff ${run.id}`);
    }
    const gates = describeGates(run);
    if (gates && !flags.quiet) out.note(gates);
  }
  return exitCodeOf(run);
}

/** Declares the flags `buildRequest` reads. */
export function addRunRequestOptions(command: Command): Command {
  return command
    .option('--agent <name>', 'shell (default) | claude | cursor | codex | gemini | llm')
    .option('--workdir <dir>', 'directory to run in (inside a trusted root)')
    .option('--repo <id>', 'run in a fresh worktree of this repository')
    .option('--ref <ref>', "where that worktree starts (default: the repo's default branch)")
    .option('--model <model>', "model for the agent's CLI")
    .option('--conversation <id>', 'continue this conversation (its agent, session and workspace)')
    .option('--workspace-of <run>', 'run in the workspace of that earlier run')
    .option('--resume <session>', 'resume this agent session (use with --workspace-of)')
    .option('--network', 'allow network access inside the sandbox (PATCHBAY_SANDBOX=bwrap)')
    .option('--timeout <ms>', 'total timeout in milliseconds')
    .option('--idle-timeout <ms>', 'idle timeout in milliseconds')
    .option('--max-output <bytes>', 'output cap in bytes')
    .option('--output-policy <policy>', 'kill | truncate')
    .option(
      '--validate <mode>',
      "repository runs: off | report (default) | fix: check the result with the repo's own build, lint and tests",
    )
    .option('--max-fix-rounds <n>', 'with --validate fix: follow-up turns at most (default 2)')
    .option(
      '-e, --env <KEY=VALUE>',
      'extra environment variable (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--pty', 'run in a pseudo-terminal');
}

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('Run a command (or agent) and follow its output; exits with its exit code')
    .argument(
      '<command...>',
      'the command and its arguments (put them after --); for a coding agent, the prompt',
    )
    .passThroughOptions();
  addRunRequestOptions(run)
    .option('--follow', 'print the output live and exit with the run (the default)')
    .option('--no-follow', 'print the run id and return at once (server mode)')
    .option('--json', 'print events and the final run as JSON lines')
    .option('-q, --quiet', 'print only the command output')
    .addHelpText(
      'after',
      '\nTalks to the server of --url (PATCHBAY_URL) when one is named; otherwise runs embedded on the store of --data-dir (PATCHBAY_DATA_DIR).\n\nExamples:\n  patchbay run -- sh -c "echo hello; sleep 1; echo done"\n  patchbay run --agent claude --repo repo_01… -- "add a test for utils.ts"\n  patchbay run --conversation conv_01… -- "now make it faster"',
    )
    .action(async (command: string[], flags: RunFlags, cmd: Command) => {
      const ctx = createContext(cmd);
      const request = buildRequest(command, flags);
      const code = ctx.explicitServer
        ? await runRemote(ctx, request, flags)
        : await runEmbedded(ctx, request, flags);
      process.exitCode = code;
    });
}
