import type { AgentPermissions } from '../../contracts/index.js';
import { createCliAgent } from '../cli-agent.js';
import type { ClassifiedFailure, ExitFacts, LaunchInput } from '../types.js';
import { codexErrorCode, createCodexParser } from './parser.js';

/**
 * The sandbox flags for a run's `agentPermissions`. `codex exec` never asks for approval (it
 * has no one to ask) and defaults to a read-only sandbox, in which every patch is rejected:
 * - `edit` → `--sandbox workspace-write`: patches and commands may write the workspace (and
 *   /tmp), commands have no network; Codex's own sandbox (bubblewrap + seccomp on Linux).
 *   Under PATCHBAY_SANDBOX=bwrap, `--sandbox danger-full-access`: Codex's bubblewrap cannot
 *   start inside Patchbay's (a nested user namespace may not map its uid: "setting up uid
 *   map: Operation not permitted"), so every patch would fail; Patchbay's sandbox already
 *   keeps writes to the workspace, and the network to what the run asked for.
 * - `full` → `--dangerously-bypass-approvals-and-sandbox`: no sandbox of Codex's own (for a
 *   machine that is itself the sandbox, e.g. PATCHBAY_SANDBOX=bwrap or a container).
 * - `read-only` → `--sandbox read-only`: Codex rejects every patch and write.
 */
function sandboxFlags(permissions: AgentPermissions, sandbox: LaunchInput['sandbox']): string[] {
  switch (permissions) {
    case 'edit':
      return ['--sandbox', sandbox === 'bwrap' ? 'danger-full-access' : 'workspace-write'];
    case 'full':
      return ['--dangerously-bypass-approvals-and-sandbox'];
    case 'read-only':
      return ['--sandbox', 'read-only'];
  }
}

/** `Error: …` / `Error loading config.toml:` lines Codex prints before it exits 1. */
const SETUP_ERROR = /^Error(?: loading config\.toml)?:\s*(.*)$/;

/**
 * Codex fails its setup (a bad config.toml, an unknown provider) before any JSON line, with an
 * `Error: …` line on stderr (then a backtrace when RUST_BACKTRACE is set).
 */
function classifyCodexExit(exit: ExitFacts, stderr: string[]): ClassifiedFailure | undefined {
  if (exit.exitCode === 2 && stderr.some((l) => l.startsWith('Usage: codex'))) {
    return { code: 'AGENT_SETUP_FAILED', message: `codex rejected its arguments: ${stderr[0]}` };
  }
  for (let i = stderr.length - 1; i >= 0; i--) {
    const line = stderr[i]!;
    const match = SETUP_ERROR.exec(line);
    if (!match) continue;
    // The config error's details are on the lines after it.
    const message = match[1] || stderr.slice(i + 1).join(' ') || line;
    const code = codexErrorCode(message);
    return {
      code: code === 'AGENT_RESULT_ERROR' ? 'AGENT_SETUP_FAILED' : code,
      message: `codex: ${line}${match[1] ? '' : ` ${message}`}`,
    };
  }
  return undefined;
}

/**
 * `codex exec --json --skip-git-repo-check <sandbox flags> [-m model] [args…] [resume <id>]
 * -- <prompt>`. Every option goes before `resume`: `codex exec resume` accepts only a few of them
 * (no `--sandbox`) and exits 2 on the rest, while exec-level options apply to the resumed
 * thread too.
 */
export const codexAgent = createCliAgent({
  name: 'codex',
  install: 'npm install -g @openai/codex',
  stateDirs: ['.codex'],
  capabilities: { resume: true, interrupt: true, usage: true, cost: false, streamingText: false },
  args: (run) => [
    'exec',
    '--json',
    '--skip-git-repo-check',
    ...sandboxFlags(run.agentPermissions, run.sandbox),
    ...(run.model ? ['-m', run.model] : []),
    ...run.args,
    ...(run.resumeSessionId ? ['resume', run.resumeSessionId] : []),
    // A prompt that starts with `-` would otherwise be read as an option.
    '--',
    run.prompt,
  ],
  createParser: createCodexParser,
  classifyExit: classifyCodexExit,
});
