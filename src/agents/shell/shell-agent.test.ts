import { copyFileSync, existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateRunRequest } from '../../contracts/index.js';
import { assertArgvAllowed, assertCommandAllowed, shellAgent } from './shell-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'pb-shell-'));
/** The `ls` the child's PATH finds. */
const realLs = ['/usr/bin/ls', '/bin/ls'].find((p) => existsSync(p))!;
copyFileSync(realLs, join(dir, 'ls'));
symlinkSync('/bin/sh', join(dir, 'echo'));
// Another path to the very same file (as PATH finds it), through a directory link.
symlinkSync(dirname(realLs), join(dir, 'bin-link'));
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

  it('allows listed names and refuses others with COMMAND_NOT_ALLOWED (403)', async () => {
    expect(await code(assertCommandAllowed('ls', ctx))).toBe('ok');
    expect(await code(assertCommandAllowed('sh', ctx))).toBe('COMMAND_NOT_ALLOWED');
    expect(await code(assertCommandAllowed('lsx', ctx))).toBe('COMMAND_NOT_ALLOWED');
    const err = await assertCommandAllowed('rm', ctx).then(
      () => null,
      (e: unknown) => e as { status: number; kind: string; details: unknown; message: string },
    );
    expect(err).toMatchObject({
      status: 403,
      kind: 'user',
      details: { executable: 'rm', allowed: ['ls', 'echo'] },
    });
    expect(err!.message).toContain('rm');
  });

  it('accepts a path only when it is the allowed name as found on PATH', async () => {
    expect(await code(assertCommandAllowed(realLs, ctx))).toBe('ok');
    expect(await code(assertCommandAllowed(realpathSync(realLs), ctx))).toBe('ok');
    expect(await code(assertCommandAllowed(join(dir, 'bin-link', 'ls'), ctx))).toBe('ok');
    // A copy of ls elsewhere is not the allowed ls.
    expect(await code(assertCommandAllowed(join(dir, 'ls'), ctx))).toBe('COMMAND_NOT_ALLOWED');
    // Nor is another program under an allowed name.
    expect(await code(assertCommandAllowed(join(dir, 'echo'), ctx))).toBe('COMMAND_NOT_ALLOWED');
    // A path that does not exist, or an allowed name the child's PATH cannot find.
    expect(await code(assertCommandAllowed('/nonexistent/ls', ctx))).toBe('COMMAND_NOT_ALLOWED');
    expect(await code(assertCommandAllowed(realLs, { ...ctx, childPath: join(dir, 'none') }))).toBe(
      'COMMAND_NOT_ALLOWED',
    );
    // The child's PATH decides: with the copy's directory first, the copy is the allowed one.
    expect(
      await code(assertCommandAllowed(join(dir, 'ls'), { ...ctx, childPath: `${dir}:/usr/bin` })),
    ).toBe('ok');
    expect(await code(assertCommandAllowed(realLs, { ...ctx, childPath: `${dir}:/usr/bin` }))).toBe(
      'COMMAND_NOT_ALLOWED',
    );
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
          agentPermissions: 'edit',
        },
        ctx,
      ),
    ).toEqual({
      argv: ['sh', '-c', 'echo $HOME'],
      stdin: 'ignore',
    });
  });
});

describe('sh -c under an allow-list', () => {
  const check = (argv: string[], allowed = ['ls', 'echo']) =>
    code(assertArgvAllowed(argv, { ...ctx, allowedCommands: allowed }));

  it('runs a script whose every command is allowed, refuses one that is not or cannot be read', async () => {
    expect(await check(['sh', '-c', 'ls -la && echo done'])).toBe('ok');
    expect(await check(['sh', '-c', 'ls; rm -rf x'])).toBe('COMMAND_NOT_ALLOWED');
    expect(await check(['sh', '-c', 'echo $(rm -rf x)'])).toBe('COMMAND_SCRIPT_UNCHECKABLE');
    // Only the exact `sh -c <script>` form: other shells and flags stay refused.
    expect(await check(['bash', '-c', 'ls'])).toBe('COMMAND_NOT_ALLOWED');
    expect(await check(['sh', '-ec', 'ls'])).toBe('COMMAND_NOT_ALLOWED');
    // A listed sh runs anything, as before.
    expect(await check(['sh', '-c', 'rm -rf x'], ['sh'])).toBe('ok');
  });
});
