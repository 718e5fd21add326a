/**
 * `run_command`: an executable with its arguments (no shell unless the model names one and the
 * allow-list lets it), in the workspace, with a time limit. It runs inside the run's own process
 * group and sandbox, so the run's cancel, timeouts and confinement reach it too. Its env is the
 * clean base (PATCHBAY_CHILD_ENV_ALLOWLIST), so the model's keys never reach a command.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { z } from 'zod';
import type { ToolSpec } from './tool-spec.js';
import { ToolError } from './workspace.js';

const MAX_OUTPUT_CHARS = 30_000;

const input = z.object({
  argv: z.array(z.string()).min(1),
  timeoutSeconds: z.number().int().min(1).max(600).optional(),
});

export const runCommand: ToolSpec<typeof input> = {
  tool: {
    name: 'run_command',
    description:
      'Run a command in the repository root (an executable and its arguments, no shell) and get its exit code and output, e.g. ["npm", "test"].',
    parameters: {
      type: 'object',
      properties: {
        argv: { type: 'array', items: { type: 'string' }, minItems: 1 },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 600 },
      },
      required: ['argv'],
      additionalProperties: false,
    },
  },
  input,
  async run(ws, { argv, timeoutSeconds }, policy) {
    const commands = policy.commands;
    if (!commands) throw new ToolError('this run may not run commands');
    const name = basename(argv[0]!);
    if (commands.allowed && argv[0]!.includes('/')) {
      throw new ToolError(`give the command's name (${name}), not a path: it is found on PATH`);
    }
    if (commands.allowed && !commands.allowed.includes(name)) {
      throw new ToolError(
        `${name} is not an allowed command here (allowed: ${commands.allowed.join(', ')})`,
      );
    }
    const timeoutMs = timeoutSeconds ? timeoutSeconds * 1000 : commands.timeoutMs;
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: ws.root,
        env: commands.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let cut = false;
      const take = (chunk: Buffer) => {
        if (output.length < MAX_OUTPUT_CHARS) output += chunk.toString('utf8');
        else cut = true;
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // Not its own process group: what it leaves behind still goes with the run's.
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new ToolError(`cannot run ${argv[0]}: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const text = output.slice(0, MAX_OUTPUT_CHARS) + (cut ? '\n… (output cut)' : '');
        if (timedOut) {
          reject(
            new ToolError(
              `${argv.join(' ')} did not end within ${timeoutMs / 1000} s and was killed\n${text}`,
            ),
          );
        } else if (code === 0) {
          resolve(`exit code 0\n${text}`);
        } else {
          reject(new ToolError(`exit code ${code ?? signal}\n${text}`));
        }
      });
    });
  },
};
