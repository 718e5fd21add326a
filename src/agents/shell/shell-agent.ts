import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { PatchbayError } from '../../contracts/index.js';
import { findExecutable } from '../find-executable.js';
import type { AgentAdapter, AgentContext } from '../types.js';
import { commandsOfScript } from './shell-script.js';

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

/**
 * Applies PATCHBAY_ALLOWED_COMMANDS to every command of a `sh -c` string (see
 * commandsOfScript: a string it cannot read is refused). No list: anything.
 * @throws PatchbayError COMMAND_SCRIPT_UNCHECKABLE, COMMAND_NOT_ALLOWED
 */
export async function assertScriptAllowed(script: string, context: AgentContext): Promise<void> {
  if (!context.allowedCommands) return;
  for (const command of commandsOfScript(script)) await assertCommandAllowed(command, context);
}

/** `sh -c <script>` with `sh` as the child's PATH finds it: the script is what runs. */
function shellScriptOf(command: string[]): string | undefined {
  return command.length === 3 && command[0] === 'sh' && command[1] === '-c'
    ? command[2]
    : undefined;
}

/**
 * PATCHBAY_ALLOWED_COMMANDS for a shell run's argv. With a list that does not name `sh`,
 * `sh -c <script>` runs when every command of the script is allowed (the cc-executor layer's
 * shell strings); a listed `sh` runs anything, as any listed executable does.
 * @throws PatchbayError COMMAND_NOT_ALLOWED, COMMAND_SCRIPT_UNCHECKABLE
 */
export async function assertArgvAllowed(command: string[], context: AgentContext): Promise<void> {
  const script = shellScriptOf(command);
  if (script !== undefined && context.allowedCommands && !context.allowedCommands.includes('sh')) {
    await assertScriptAllowed(script, context);
    return;
  }
  await assertCommandAllowed(command[0]!, context);
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
    await assertArgvAllowed(command, context);
  },
  plan(run) {
    return { argv: run.command ?? [], stdin: 'ignore' };
  },
};
