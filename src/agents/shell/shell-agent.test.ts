import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateRunRequest } from '../../contracts/index.js';
import { assertCommandAllowed, shellAgent } from './shell-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'pb-shell-'));
copyFileSync('/bin/ls', join(dir, 'ls'));
symlinkSync('/bin/sh', join(dir, 'echo'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bins = { claude: 'claude', cursor: 'cursor-agent', codex: 'codex', gemini: 'gemini' };
const ctx = { allowedCommands: ['ls', 'echo'], childPath: '/usr/bin:/bin', bins };
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

describe('shell agent', () => {
  it('allows any command without an allow-list', async () => {
    expect(
      await code(
        assertCommandAllowed('/anything/at/all', {
          allowedCommands: undefined,
          childPath: '',
          bins,
        }),
      ),
    ).toBe('ok');
  });

  it('allows listed names and refuses others with COMMAND_NOT_ALLOWED', async () => {
    expect(await code(assertCommandAllowed('ls', ctx))).toBe('ok');
    expect(await code(assertCommandAllowed('sh', ctx))).toBe('COMMAND_NOT_ALLOWED');
  });

  it('accepts a path only when it is the allowed name as found on PATH', async () => {
    const realLs = ['/usr/bin/ls', '/bin/ls'].find((p) => p);
    expect(await code(assertCommandAllowed(realLs!, ctx))).toBe('ok');
    expect(await code(assertCommandAllowed(join(dir, 'ls'), ctx))).toBe('COMMAND_NOT_ALLOWED');
    expect(await code(assertCommandAllowed(join(dir, 'echo'), ctx))).toBe('COMMAND_NOT_ALLOWED');
  });

  it('requires a non-empty command', async () => {
    const request = CreateRunRequest.parse({ agent: 'shell' });
    expect(await code(shellAgent.validate(request, ctx))).toBe('RUN_COMMAND_REQUIRED');
    expect(await code(shellAgent.validate(CreateRunRequest.parse({ command: [''] }), ctx))).toBe(
      'RUN_COMMAND_REQUIRED',
    );
    expect(
      await code(shellAgent.validate(CreateRunRequest.parse({ command: ['ls', 'a\0b'] }), ctx)),
    ).toBe('VALIDATION_FAILED');
  });

  it('plans the argv as given, stdin from /dev/null', () => {
    expect(
      shellAgent.plan(
        {
          command: ['sh', '-c', 'echo $HOME'],
          prompt: null,
          model: null,
          args: [],
          resumeSessionId: null,
        },
        ctx,
      ),
    ).toEqual({
      argv: ['sh', '-c', 'echo $HOME'],
      stdin: 'ignore',
    });
  });
});
