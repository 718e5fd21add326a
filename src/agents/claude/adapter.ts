import { randomUUID } from 'node:crypto';
import type { AgentPermissions } from '../../contracts/index.js';
import { createCliAgent } from '../cli-agent.js';
import type { ClassifiedFailure, ExitFacts } from '../types.js';
import { createClaudeParser } from './parser.js';

/**
 * agentPermissions as Claude Code permission flags. Headless (`-p`) nobody answers a prompt,
 * so a tool use its mode does not allow is denied (reported in the result's
 * `permission_denials`). `--dangerously-skip-permissions` (= bypassPermissions) is refused
 * when running as root, so `full` allows Bash explicitly instead.
 * - edit: acceptEdits: Write/Edit in the working directory, plus the filesystem commands
 *   (mkdir, touch, mv, cp, redirections) that mode accepts; other shell commands are denied.
 * - full: acceptEdits and every Bash command.
 * - read-only: plan: reads and searches only; every edit and command is denied.
 */
export function permissionArgs(permissions: AgentPermissions): string[] {
  switch (permissions) {
    case 'edit':
      return ['--permission-mode', 'acceptEdits'];
    case 'full':
      return ['--permission-mode', 'acceptEdits', '--allowedTools', 'Bash'];
    case 'read-only':
      return ['--permission-mode', 'plan'];
  }
}

/**
 * A CLI that exited without a result, by its own last words. An API failure (401 included)
 * ends in a result line, parsed instead; what reaches here is a start-up refusal, which the
 * engine reports as AGENT_SETUP_FAILED with the CLI's last line unless it names the login.
 */
export function classifyClaudeExit(
  _exit: ExitFacts,
  stderr: string[],
): ClassifiedFailure | undefined {
  if (/invalid api key|not logged in|please run \/login/i.test(stderr.join('\n'))) {
    return { code: 'AGENT_AUTH_FAILED' };
  }
  return undefined;
}

/**
 * `claude -p --output-format stream-json --verbose --input-format stream-json [--model m]
 * [--resume id] --permission-mode … [args]` (stream-json output needs --verbose). The prompt goes in as a user message on stdin, which stays open so
 * that an interrupt is a control request (the turn ends, the process and session survive);
 * stdin is closed once the result arrives, and the CLI exits.
 */
export const claudeAgent = createCliAgent({
  name: 'claude',
  install: 'npm install -g @anthropic-ai/claude-code',
  stateDirs: ['.claude', '.config/claude'],
  // Its main config; an empty file would read as corrupt, so a new one is an empty object.
  stateFiles: { '.claude.json': '{}\n' },
  capabilities: { resume: true, interrupt: true, usage: true, cost: true, streamingText: true },
  args: (run) => [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--input-format',
    'stream-json',
    ...(run.model ? ['--model', run.model] : []),
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    ...permissionArgs(run.agentPermissions),
    // Last, so a user's own flags (another --permission-mode) win.
    ...run.args,
  ],
  stdinChannel: {
    input: (run) =>
      `${JSON.stringify({ type: 'user', message: { role: 'user', content: run.prompt } })}\n`,
    interrupt: () =>
      `${JSON.stringify({ type: 'control_request', request_id: randomUUID(), request: { subtype: 'interrupt' } })}\n`,
  },
  // Headless defaults: out of the box Claude Code retries a failing provider (a 401 too) 10
  // times, about 3 minutes, before the run learns anything; and it calls home. A user's
  // server env or run env overrides either.
  defaultEnv: { CLAUDE_CODE_MAX_RETRIES: '3', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  createParser: createClaudeParser,
  classifyExit: classifyClaudeExit,
});
