/**
 * Where and how a run executes: trusted workdirs, allowed commands, the child environment
 * and agent credentials, the agent CLIs, the sandbox and containment, worktree lifetime and
 * cloning.
 */
import { z } from 'zod';
import { durationMs, list, offByDefault, setting } from './spec.js';

/**
 * The variables each agent CLI reads its provider's credentials and endpoint from. With
 * PATCHBAY_AGENT_CREDENTIALS=auto their values are taken from the server's environment and given
 * to that agent's runs only (never to shell runs, never stored, logged or returned).
 */
export const agentCredentialEnv = {
  claude: [
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_BASE_URL',
    'CLAUDE_CODE_OAUTH_TOKEN',
  ],
  codex: ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'CODEX_API_KEY'],
  gemini: [
    'GEMINI_API_KEY',
    'GOOGLE_API_KEY',
    'GOOGLE_GEMINI_BASE_URL',
    'GOOGLE_GENAI_USE_VERTEXAI',
    'GOOGLE_CLOUD_PROJECT',
    'GOOGLE_CLOUD_LOCATION',
    'GOOGLE_APPLICATION_CREDENTIALS',
  ],
  cursor: ['CURSOR_API_KEY'],
} as const satisfies Record<string, readonly string[]>;

export type CredentialAgent = keyof typeof agentCredentialEnv;

export const executionSettings = {
  workspaceRoots: setting({
    key: 'workspaceRoots',
    env: 'PATCHBAY_WORKSPACE_ROOTS',
    schema: list.optional(),
    defaultText: '<dataDir>/workspaces',
    description:
      "Comma-separated trusted roots. A run `workdir` (a conversation's and a schedule's too) and a repository registered by path must resolve (symlinks included) inside one of them; a relative `workdir` is taken from the first. A refusal (`WORKDIR_NOT_TRUSTED`) lists them.",
  }),
  allowedCommands: setting({
    key: 'allowedCommands',
    env: 'PATCHBAY_ALLOWED_COMMANDS',
    schema: list.optional(),
    defaultText: '(unset: any)',
    description:
      'Comma-separated executable names the shell agent may run; anything else is refused with COMMAND_NOT_ALLOWED.',
  }),
  childEnvAllowlist: setting({
    key: 'childEnvAllowlist',
    env: 'PATCHBAY_CHILD_ENV_ALLOWLIST',
    schema: list.default([
      'PATH',
      'HOME',
      'LANG',
      'LC_ALL',
      'LC_CTYPE',
      'TERM',
      'TZ',
      'USER',
      'LOGNAME',
      'SHELL',
      'TMPDIR',
    ]),
    defaultText: 'PATH,HOME,LANG,LC_ALL,LC_CTYPE,TERM,TZ,USER,LOGNAME,SHELL,TMPDIR',
    description:
      "Server environment variables a child inherits. Nothing else of the server's environment reaches a run.",
  }),
  agentCredentials: setting({
    key: 'agentCredentials',
    env: 'PATCHBAY_AGENT_CREDENTIALS',
    schema: z.enum(['auto', 'none']).default('auto'),
    defaultText: 'auto',
    description:
      "`auto`: each agent's runs get its provider's credential variables (ANTHROPIC_API_KEY for claude, OPENAI_API_KEY for codex, GEMINI_API_KEY for gemini, CURSOR_API_KEY for cursor, and the others listed in docs/agents.md) from the server's environment, even though the child environment is otherwise clean; never stored, logged or returned. `none`: they get only PATCHBAY_CHILD_ENV_ALLOWLIST and the run's `env`.",
  }),
  agentClaudeBin: setting({
    key: 'agentClaudeBin',
    env: 'PATCHBAY_AGENT_CLAUDE_BIN',
    schema: z.string().min(1).default('claude'),
    defaultText: 'claude',
    description: "The Claude agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  agentCursorBin: setting({
    key: 'agentCursorBin',
    env: 'PATCHBAY_AGENT_CURSOR_BIN',
    schema: z.string().min(1).default('cursor-agent'),
    defaultText: 'cursor-agent',
    description: "The Cursor agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  agentCodexBin: setting({
    key: 'agentCodexBin',
    env: 'PATCHBAY_AGENT_CODEX_BIN',
    schema: z.string().min(1).default('codex'),
    defaultText: 'codex',
    description: "The Codex agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  agentGeminiBin: setting({
    key: 'agentGeminiBin',
    env: 'PATCHBAY_AGENT_GEMINI_BIN',
    schema: z.string().min(1).default('gemini'),
    defaultText: 'gemini',
    description: "The Gemini agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  sandbox: setting({
    key: 'sandbox',
    env: 'PATCHBAY_SANDBOX',
    schema: z.enum(['none', 'bwrap']).default('none'),
    defaultText: 'none',
    description:
      "`bwrap` runs every run under bubblewrap: the file system read-only except the run's workspace, a private /tmp, the data dir hidden, its own PID namespace and no network unless the run sets `network: true`. The server refuses to start when bwrap cannot build a sandbox (`patchbay doctor` tells).",
  }),
  sandboxBwrapBin: setting({
    key: 'sandboxBwrapBin',
    env: 'PATCHBAY_SANDBOX_BWRAP_BIN',
    schema: z.string().min(1).default('bwrap'),
    defaultText: 'bwrap',
    description: 'The bubblewrap executable (Debian package `bubblewrap`).',
  }),
  runContainment: setting({
    key: 'runContainment',
    env: 'PATCHBAY_RUN_CONTAINMENT',
    schema: z.enum(['auto', 'pidns', 'none']).default('auto'),
    defaultText: 'auto',
    description:
      "How runs without the bwrap sandbox are kept from outliving themselves. `pidns` starts each run in its own PID namespace (util-linux `unshare`, as root or in a user namespace) with a private /proc: when the run ends, is cancelled or times out, every process it left behind is killed, even one that left its process group (`setsid`, a double fork), and it cannot read the server's /proc entries. The server refuses to start when that is unavailable. `auto` uses it when available and otherwise only the process group (`patchbay doctor` tells which). `none`: only the process group, and the run sees every process of the machine. With PATCHBAY_SANDBOX=bwrap the sandbox's own PID namespace does this.",
  }),
  workspaceTtlMs: setting({
    key: 'workspaceTtlMs',
    env: 'PATCHBAY_WORKSPACE_TTL_MS',
    schema: durationMs.default(7 * 24 * 3_600_000),
    defaultText: '604800000 (7 days)',
    description:
      "How long a finished run's worktree (and fresh directory) is kept. Then it is removed with its branch, unless the branch was pushed. A workdir you gave is never removed.",
  }),
  allowPrivateRepoUrls: setting({
    key: 'allowPrivateRepoUrls',
    env: 'PATCHBAY_ALLOW_PRIVATE_REPO_URLS',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Allow repository URLs whose host resolves to a loopback, private, link-local or otherwise reserved address (an internal git server). Redirects stay refused.',
  }),
  cloneTimeoutMs: setting({
    key: 'cloneTimeoutMs',
    env: 'PATCHBAY_CLONE_TIMEOUT_MS',
    schema: durationMs.default(300_000),
    defaultText: '300000 (5 min)',
    description: 'Time limit of cloning or fetching a repository.',
  }),
};
