import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A tool's failure, written for the model (it reads the message and tries again). */
export class ToolError extends Error {}

/**
 * The directory the agent works in: every path a tool takes is relative to it and must stay
 * inside it, symbolic links included, and never inside `.git`.
 */
export interface Workspace {
  readonly root: string;
  /** The absolute path of `path`, or a ToolError saying why it is refused. */
  resolve(path: string): Promise<string>;
  /** `git` in the workspace; stdout, or a ToolError with its stderr. */
  git(args: string[], options?: { okCodes?: number[] }): Promise<string>;
}

/** The deepest part of `path` that exists, through its real path (a link is followed). */
async function realOfNearest(path: string): Promise<string> {
  let current = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(await realpath(current), ...rest.reverse());
    } catch {
      const up = dirname(current);
      if (up === current) return path;
      rest.push(current.slice(up.length + 1));
      current = up;
    }
  }
}

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

export async function createWorkspace(dir: string): Promise<Workspace> {
  const root = await realpath(dir);
  return {
    root,
    async resolve(path) {
      if (typeof path !== 'string' || path.includes('\0')) {
        throw new ToolError('path must be a string without NUL bytes');
      }
      const absolute = resolve(root, path);
      const real = await realOfNearest(absolute);
      if (!inside(root, absolute) || !inside(root, real)) {
        throw new ToolError(
          `${path} is outside the repository: paths are relative to its root and stay inside it`,
        );
      }
      const rel = relative(root, real);
      if (rel === '.git' || rel.startsWith(`.git${sep}`)) {
        throw new ToolError(`${path} is inside .git, which the agent may not touch`);
      }
      return real;
    },
    async git(args, options = {}) {
      try {
        const { stdout } = await run('git', args, {
          cwd: root,
          maxBuffer: 8 * 1024 * 1024,
          timeout: 30_000,
        });
        return stdout;
      } catch (err) {
        const e = err as { code?: unknown; stdout?: string; stderr?: string; message: string };
        if (typeof e.code === 'number' && options.okCodes?.includes(e.code)) return e.stdout ?? '';
        throw new ToolError(`git ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
      }
    },
  };
}
