import { PatchbayError } from '../contracts/index.js';
import { findExecutable } from './find-executable.js';
import type { StreamParser } from './stream-parser.js';
import type {
  AgentAdapter,
  AgentCapabilities,
  AgentContext,
  CliAgentName,
  LaunchInput,
} from './types.js';

export interface CliAgentSpec {
  name: CliAgentName;
  /** How a user installs the CLI (a command), named when it is missing. */
  install: string;
  capabilities: AgentCapabilities;
  /** The CLI's own state directories under HOME (sessions, settings, login). */
  stateDirs: readonly string[];
  /** Its state files under HOME, with the content a new one starts with. */
  stateFiles?: Readonly<Record<string, string>>;
  /** argv after the binary, for a run. */
  args(run: LaunchInput & { prompt: string }): string[];
  /**
   * For CLIs that take the prompt on stdin and keep it open for control requests: what to
   * write at start and the line that interrupts a turn. Absent: stdin is /dev/null.
   */
  stdinChannel?: {
    input(run: LaunchInput & { prompt: string }): string;
    interrupt(): string;
  };
  createParser(): StreamParser;
  /**
   * Environment the CLI runs with unless the server (PATCHBAY_AGENT_CREDENTIALS, the child env
   * allow-list) or the run's `env` sets the same name: headless defaults, such as a bounded
   * number of provider retries.
   */
  defaultEnv?: Readonly<Record<string, string>>;
  /** See AgentAdapter.classifyExit. */
  classifyExit?: AgentAdapter['classifyExit'];
}

/**
 * A coding-agent CLI run headless: a prompt in, NDJSON out. Each agent only says how to build
 * its argv and which parser reads its stream (shared/reference/agent-cli-formats.md).
 */
export function createCliAgent(spec: CliAgentSpec): AgentAdapter {
  const setting = `PATCHBAY_AGENT_${spec.name.toUpperCase()}_BIN`;
  async function assertInstalled(context: AgentContext): Promise<void> {
    const bin = context.bins[spec.name];
    if (await findExecutable(bin, context.childPath)) return;
    throw new PatchbayError(
      'AGENT_NOT_INSTALLED',
      `the ${spec.name} CLI is not installed on this server: ${setting} is \`${bin}\`, which is ` +
        `not ${bin.includes('/') ? 'an executable file' : "on the runs' PATH"}. ` +
        `Install it with \`${spec.install}\`, or set ${setting} to its path.`,
      { agent: spec.name, bin, setting, install: spec.install },
    );
  }
  return {
    name: spec.name,
    install: spec.install,
    capabilities: spec.capabilities,
    stateDirs: spec.stateDirs,
    stateFiles: spec.stateFiles ?? {},
    ...(spec.classifyExit ? { classifyExit: spec.classifyExit } : {}),
    async validate(request, context) {
      if (!request.prompt) {
        throw new PatchbayError('RUN_PROMPT_REQUIRED', `the ${spec.name} agent needs a prompt`, {
          field: 'prompt',
        });
      }
      if (request.resumeSessionId && !spec.capabilities.resume) {
        throw new PatchbayError('VALIDATION_FAILED', `the ${spec.name} agent cannot resume`);
      }
      await assertInstalled(context);
    },
    assertInstalled,
    plan(run, context) {
      const input = { ...run, prompt: run.prompt ?? '' };
      const argv = [context.bins[spec.name], ...spec.args(input)];
      const env = spec.defaultEnv ? { env: { ...spec.defaultEnv } } : {};
      const channel = spec.stdinChannel;
      // Otherwise stdin is /dev/null: an inherited or open pipe makes several CLIs hang.
      if (!channel) return { argv, stdin: 'ignore', ...env };
      return {
        argv,
        ...env,
        stdin: 'pipe',
        input: channel.input(input),
        interruptInput: channel.interrupt,
      };
    },
    createParser: spec.createParser,
  };
}
