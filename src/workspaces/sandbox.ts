import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PatchbayError } from '../contracts/index.js';

export type SandboxKind = 'none' | 'bwrap';

export interface SandboxOptions {
  /** The only directory the process may write to (besides a private /tmp). */
  workdir: string;
  /** Keep the host's network; otherwise only a private loopback exists. */
  network: boolean;
  /** Directories hidden behind an empty tmpfs (the data dir: other runs, the database). */
  hide: string[];
  /** Paths inside hidden directories the process still needs to read (a worktree's git dir). */
  readOnly: string[];
  /** Paths that stay writable, e.g. an agent CLI's own state directory (sessions, login). */
  writable: string[];
}

/**
 * The argv that runs `argv` under bubblewrap: the whole file system read-only, `hide`
 * replaced by empty directories, the workdir and `writable` paths writable, a private /tmp,
 * its own PID, IPC and UTS namespaces and, unless `network`, its own network namespace.
 *
 * No `--new-session`: the sandbox stays in the supervisor's process group, so pause, resume
 * and cancel signal it like any run; killing bwrap's PID 1 takes every process inside with it
 * (the PID namespace), and `--die-with-parent` ends it if the server itself dies.
 */
export function bwrapArgv(bwrap: string, argv: string[], options: SandboxOptions): string[] {
  const args = [
    bwrap,
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(options.network ? [] : ['--unshare-net']),
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/var/tmp',
  ];
  for (const dir of options.hide) args.push('--tmpfs', dir);
  for (const path of options.readOnly) args.push('--ro-bind', path, path);
  for (const path of options.writable) {
    if (existsSync(path)) args.push('--bind', path, path);
  }
  args.push('--bind', options.workdir, options.workdir, '--chdir', options.workdir, '--', ...argv);
  return args;
}

/** The agent CLIs' own state (sessions, settings, login) under HOME: writable in the sandbox. */
export function agentStatePaths(home: string | undefined, names: readonly string[]): string[] {
  return home ? names.map((n) => join(home, n)) : [];
}

/**
 * Whether bubblewrap can build the sandbox here (it needs unprivileged user namespaces or
 * root). Resolves to the version line, or rejects with SANDBOX_UNAVAILABLE and the reason.
 */
export function probeBwrap(bwrap: string): Promise<string> {
  const probe = bwrapArgv(bwrap, ['true'], {
    workdir: '/',
    network: false,
    hide: [],
    readOnly: [],
    writable: [],
  });
  const run = (file: string, args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(file, args, { timeout: 5000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(stderr.trim() || err.message));
        else resolve(stdout.trim());
      }).stdin?.end();
    });
  return run(probe[0]!, probe.slice(1))
    .then(() => run(bwrap, ['--version']))
    .catch((err: Error) => {
      throw new PatchbayError(
        'SANDBOX_UNAVAILABLE',
        `bubblewrap (${bwrap}) cannot create a sandbox here: ${err.message}`,
        { bwrap },
        { cause: err },
      );
    });
}
