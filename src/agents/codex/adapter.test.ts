import { describe, expect, it } from 'vitest';
import type { AgentContext, LaunchInput } from '../types.js';
import { codexAgent } from './adapter.js';

const context: AgentContext = {
  allowedCommands: undefined,
  childPath: undefined,
  bins: { claude: 'claude', codex: 'codex', cursor: 'cursor-agent', gemini: 'gemini' },
};

const run = (over: Partial<LaunchInput> = {}): LaunchInput => ({
  command: null,
  prompt: 'add a test',
  model: null,
  args: [],
  resumeSessionId: null,
  agentPermissions: 'edit',
  ...over,
});

describe('codexAgent.plan', () => {
  it('lets `edit` write the workspace through Codex’s workspace-write sandbox', () => {
    expect(codexAgent.plan(run(), context)).toEqual({
      argv: [
        'codex',
        'exec',
        '--json',
        '--skip-git-repo-check',
        '--sandbox',
        'workspace-write',
        '--',
        'add a test',
      ],
      stdin: 'ignore',
    });
  });

  it('leaves `edit` to Patchbay’s bwrap, where Codex’s own bubblewrap cannot nest', () => {
    const argv = codexAgent.plan(run({ sandbox: 'bwrap' }), context).argv;
    expect(argv.slice(4, 6)).toEqual(['--sandbox', 'danger-full-access']);
  });

  it('maps `full` to no sandbox of Codex’s own and `read-only` to its read-only sandbox', () => {
    expect(codexAgent.plan(run({ agentPermissions: 'full' }), context).argv).toContain(
      '--dangerously-bypass-approvals-and-sandbox',
    );
    const readOnly = codexAgent.plan(run({ agentPermissions: 'read-only' }), context).argv;
    expect(readOnly.slice(4, 6)).toEqual(['--sandbox', 'read-only']);
  });

  // `codex exec resume` accepts few options (no --sandbox) and exits 2 on the others: every
  // option goes before `resume`, where exec takes them and applies them to the resumed thread.
  it('puts every option, the user’s args too, before `resume <id> <prompt>`', () => {
    const { argv } = codexAgent.plan(
      run({ resumeSessionId: 'th-1', model: 'gpt-5.5', args: ['-c', 'x=1'] }),
      context,
    );
    expect(argv).toEqual([
      'codex',
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--sandbox',
      'workspace-write',
      '-m',
      'gpt-5.5',
      '-c',
      'x=1',
      'resume',
      'th-1',
      '--',
      'add a test',
    ]);
  });
});

describe('codexAgent.classifyExit', () => {
  const exit = { exitCode: 1, signal: null };

  it('names a config error Codex printed before its stream (a backtrace may follow)', () => {
    expect(
      codexAgent.classifyExit!(exit, ['Error: Model provider `nope` not found', '0: <unknown>']),
    ).toEqual({
      code: 'AGENT_SETUP_FAILED',
      message: 'codex: Error: Model provider `nope` not found',
    });
    expect(
      codexAgent.classifyExit!(exit, [
        'Error loading config.toml:',
        '/h/.codex/config.toml:1:10: unclosed array, expected `]`',
      ]),
    ).toEqual({
      code: 'AGENT_SETUP_FAILED',
      message:
        'codex: Error loading config.toml: /h/.codex/config.toml:1:10: unclosed array, expected `]`',
    });
  });

  it('leaves what it does not recognise to the engine', () => {
    expect(codexAgent.classifyExit!(exit, ['Reading additional input from stdin...'])).toBe(
      undefined,
    );
  });
});
