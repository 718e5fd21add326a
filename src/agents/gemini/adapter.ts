import type { AgentPermissions } from '../../contracts/index.js';
import { createCliAgent } from '../cli-agent.js';
import type { ClassifiedFailure, ExitFacts } from '../types.js';
import { createGeminiParser } from './parser.js';

/**
 * Headless gemini-cli (0.61) offers the model only the tools its approval mode allows without
 * asking: `default` leaves out write_file, replace and the shell; `auto_edit` adds the edit
 * tools; `yolo` everything; `plan` keeps the tools but its policy refuses any change outside
 * its plans directory.
 */
const APPROVAL_MODE: Record<AgentPermissions, string> = {
  edit: 'auto_edit',
  full: 'yolo',
  'read-only': 'plan',
};

/**
 * Why gemini exited before its stream (gemini-cli's exit codes: 41 authentication, 42 input,
 * 52 configuration, 55 an untrusted workspace).
 */
export function classifyGeminiExit(
  exit: ExitFacts,
  stderr: string[],
): ClassifiedFailure | undefined {
  const text = stderr.join('\n');
  if (exit.exitCode === 55 || /not running in a trusted directory/i.test(text)) {
    return { code: 'AGENT_NOT_TRUSTED' };
  }
  if (exit.exitCode === 41) {
    // "When using Gemini API, you must specify the GEMINI_API_KEY environment variable." is
    // followed by a generic "Update your environment and try again" line: name the cause.
    const cause = stderr.filter((line) => !/^Update your environment/i.test(line)).at(-1);
    return { code: 'AGENT_AUTH_FAILED', ...(cause ? { message: cause } : {}) };
  }
  return undefined;
}

/**
 * `gemini --skip-trust --approval-mode <mode> --output-format stream-json [--model m]
 * [--resume id] [args…] --prompt=<prompt>`. `--skip-trust` trusts the run's workspace for this
 * process only (Patchbay already decided where runs may work); without it every headless run
 * in a folder the user never trusted exits 55. The prompt goes last and in `--prompt=` form,
 * so a prompt that starts with `-` is not read as a flag.
 */
export const geminiAgent = createCliAgent({
  name: 'gemini',
  install: 'npm install -g @google/gemini-cli',
  stateDirs: ['.gemini'],
  capabilities: { resume: true, interrupt: true, usage: true, cost: false, streamingText: true },
  args: (run) => [
    '--skip-trust',
    '--approval-mode',
    APPROVAL_MODE[run.agentPermissions],
    '--output-format',
    'stream-json',
    ...(run.model ? ['--model', run.model] : []),
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    ...run.args,
    `--prompt=${run.prompt}`,
  ],
  createParser: createGeminiParser,
  classifyExit: classifyGeminiExit,
});
