import { describe, expect, it } from 'vitest';
import type { LaunchInput } from '../types.js';
import { classifyGeminiExit, geminiAgent } from './adapter.js';

const context = {
  allowedCommands: undefined,
  childPath: undefined,
  bins: { claude: 'claude', cursor: 'cursor-agent', codex: 'codex', gemini: 'gemini' },
};
const run = (over: Partial<LaunchInput> = {}): LaunchInput => ({
  command: null,
  prompt: 'fix it',
  model: null,
  args: [],
  resumeSessionId: null,
  agentPermissions: 'edit',
  ...over,
});

describe('gemini adapter', () => {
  it('trusts the workspace for the run and maps the permission policy to an approval mode', () => {
    expect(geminiAgent.plan(run(), context)).toEqual({
      argv: [
        'gemini',
        '--skip-trust',
        '--approval-mode',
        'auto_edit',
        '--output-format',
        'stream-json',
        '--prompt=fix it',
      ],
      stdin: 'ignore',
    });
    const mode = (agentPermissions: LaunchInput['agentPermissions']) =>
      geminiAgent.plan(run({ agentPermissions }), context).argv[3];
    expect([mode('edit'), mode('full'), mode('read-only')]).toEqual(['auto_edit', 'yolo', 'plan']);
  });

  it('resumes with the same flags, user args before the prompt, a dash prompt kept whole', () => {
    const { argv } = geminiAgent.plan(
      run({ resumeSessionId: 's-1', model: 'gemini-2.5-pro', args: ['--debug'], prompt: '-x' }),
      context,
    );
    expect(argv.slice(5)).toEqual([
      'stream-json',
      '--model',
      'gemini-2.5-pro',
      '--resume',
      's-1',
      '--debug',
      '--prompt=-x',
    ]);
  });

  it('explains the exits gemini makes before its stream', () => {
    const exit = (exitCode: number) => ({ exitCode, signal: null });
    expect(
      classifyGeminiExit(exit(55), [
        'Gemini CLI is not running in a trusted directory. To proceed…',
      ]),
    ).toEqual({ code: 'AGENT_NOT_TRUSTED' });
    expect(classifyGeminiExit(exit(41), ['Invalid auth method selected.'])).toEqual({
      code: 'AGENT_AUTH_FAILED',
      message: 'Invalid auth method selected.',
    });
    expect(
      classifyGeminiExit(exit(41), [
        'When using Gemini API, you must specify the GEMINI_API_KEY environment variable.',
        'Update your environment and try again (no reload needed if using .env)!',
      ])?.message,
    ).toContain('GEMINI_API_KEY');
    expect(classifyGeminiExit(exit(1), ['boom'])).toBeUndefined();
  });
});
