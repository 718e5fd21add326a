import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { PatchbayError } from '../../contracts/index.js';
import { findExecutable } from '../find-executable.js';
import type { AgentAdapter, AgentContext } from '../types.js';

/**
 * Enforces PATCHBAY_ALLOWED_COMMANDS. A bare name must be on the list. A path is accepted
 * only when it is the very file an allowed name resolves to on the child's PATH, so
 * `/tmp/x/ls` does not pass for `ls`.
 */
export async function assertCommandAllowed(
  executable: string,
  context: AgentContext,
): Promise<void> {
  const allowed = context.allowedCommands;
  if (!allowed) return;
  const name = basename(executable);
  const refuse = (): never => {
    throw new PatchbayError(
      'COMMAND_NOT_ALLOWED',
      `\`${executable}\` is not an allowed command (allowed: ${allowed.join(', ')})`,
      { executable, allowed },
    );
  };
  if (!allowed.includes(name)) refuse();
  if (!executable.includes('/')) return;
  const expected = await findExecutable(name, context.childPath);
  if (!expected) refuse();
  try {
    if ((await realpath(executable)) !== (await realpath(expected!))) refuse();
  } catch (err) {
    if (err instanceof PatchbayError) throw err;
    refuse();
  }
}

/** Runs `command` as given: an argv array, no shell in between. */
export const shellAgent: AgentAdapter = {
  name: 'shell',
  capabilities: { resume: false, interrupt: true, usage: false, cost: false, streamingText: true },
  async validate(request, context) {
    const command = request.command;
    if (!command || command.length === 0 || !command[0]) {
      throw new PatchbayError('RUN_COMMAND_REQUIRED', undefined, { field: 'command' });
    }
    if (command.some((arg) => arg.includes('\0'))) {
      throw new PatchbayError('VALIDATION_FAILED', 'command arguments must not contain NUL bytes', {
        fields: [{ path: 'command', message: 'NUL byte' }],
      });
    }
    await assertCommandAllowed(command[0], context);
  },
  plan(run) {
    return { argv: run.command ?? [], stdin: 'ignore' };
  },
};
