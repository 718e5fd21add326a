import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
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
 * its own user, PID, IPC and UTS namespaces and, unless `network`, its own network namespace.
 *
 * Every capability is dropped, in a user namespace: started by root, bwrap would otherwise
 * hand the run all of root's capabilities, and a run could remount `/` read-write or unmount
 * the tmpfs that hides the data dir. The run keeps its uid (root stays uid 0, mapped to the
 * host's root, so the files it writes in the workdir are owned as before) but has no
 * capability, so only ordinary file permissions apply, and the mounts are locked.
 *
 * No `--new-session`: the sandbox stays in the supervisor's process group, so pause, resume
 * and cancel signal it like any run; killing bwrap's PID 1 takes every process inside with it
 * (the PID namespace), and `--die-with-parent` ends it if the server itself dies.
 */
export function bwrapArgv(bwrap: string, argv: string[], options: SandboxOptions): string[] {
  const args = [
    bwrap,
    '--die-with-parent',
    '--unshare-user',
    '--cap-drop',
    'ALL',
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
    // Read-only files still let a process connect() to the Unix sockets among them (Docker,
    // PostgreSQL, D-Bus…): /run is empty but for the resolver's files.
    '--tmpfs',
    '/run',
    '--ro-bind-try',
    '/run/systemd/resolve',
    '/run/systemd/resolve',
  ];
  for (const dir of options.hide) args.push('--tmpfs', dir);
  for (const path of options.readOnly) args.push('--ro-bind', path, path);
  for (const path of options.writable) {
    if (existsSync(path)) args.push('--bind', path, path);
  }
  args.push('--bind', options.workdir, options.workdir, '--chdir', options.workdir, '--', ...argv);
  return args;
}

/** An agent CLI's own state under HOME (sessions, settings, login). */
export interface AgentState {
  /** Directories, relative to HOME. */
  dirs: readonly string[];
  /** Files, relative to HOME, with what a new one starts with (`{}` for a JSON config). */
  files: Readonly<Record<string, string>>;
}

export interface PreparedAgentState {
  /** Paths to bind writable. */
  paths: string[];
  /** Paths left read-only, and why. */
  skipped: { path: string; reason: string }[];
}

/**
 * Makes an agent's state paths exist under `home`, so the sandbox can bind them writable even
 * on a fresh HOME (bwrap can only bind what exists, and a CLI that cannot save its session
 * cannot resume it). A path is only bound when it is what it should be: a directory or a
 * regular file, reached without a symlink, since a symlink planted by an earlier run (a HOME
 * inside a workspace) would otherwise make its target writable.
 */
export async function prepareAgentState(
  home: string | undefined,
  state: AgentState,
): Promise<PreparedAgentState> {
  const result: PreparedAgentState = { paths: [], skipped: [] };
  if (!home || !isAbsolute(home)) return result;
  const realHome = await realpath(home).catch(() => null);
  const entries: [string, 'dir' | 'file', string][] = [
    ...state.dirs.map((d): [string, 'dir', string] => [d, 'dir', '']),
    ...Object.entries(state.files).map(([f, initial]): [string, 'file', string] => [
      f,
      'file',
      initial,
    ]),
  ];
  for (const [relative, kind, initial] of entries) {
    const path = join(home, relative);
    try {
      if (kind === 'dir') await mkdir(path, { recursive: true, mode: 0o700 });
      else {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        // `wx`: never truncate an existing file (the CLI's login lives there).
        await writeFile(path, initial, { flag: 'wx', mode: 0o600 }).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        });
      }
      const stat = await lstat(path);
      const real = await realpath(path);
      const expected = join(realHome ?? home, relative);
      if (kind === 'dir' ? !stat.isDirectory() : !stat.isFile()) {
        result.skipped.push({ path, reason: `not a ${kind === 'dir' ? 'directory' : 'file'}` });
      } else if (real !== expected) {
        result.skipped.push({ path, reason: `reached through a symlink (${real})` });
      } else result.paths.push(path);
    } catch (err) {
      result.skipped.push({ path, reason: (err as Error).message });
    }
  }
  return result;
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
