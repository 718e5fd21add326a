import { execFile } from 'node:child_process';
import { constants as osConstants } from 'node:os';

/**
 * What keeps a run's processes from outliving it:
 * - `bwrap`: the sandbox's own PID namespace (PATCHBAY_SANDBOX=bwrap);
 * - `pidns`: a PID namespace from util-linux `unshare` (and a private /proc);
 * - `none`: only the process group, which `setsid` or a double fork leaves.
 */
export type Containment = 'bwrap' | 'pidns' | 'none';

/** A working PID-namespace wrapper: the argv prefix, and what it costs the run. */
export interface PidNamespace {
  /** `unshare …` up to, not including, the program. */
  prefix: string[];
  /** A user namespace was needed (not root): the run keeps its uid, but set-uid programs fail. */
  userNamespace: boolean;
}

/**
 * PID 1 of the namespace. The kernel drops any signal to a namespace's PID 1 that it has no
 * handler for (SIGKILL and SIGSTOP aside), so a program that were PID 1 would ignore the
 * supervisor's SIGTERM and SIGINT. A shell stays PID 1 and runs the program as its child,
 * in the same process group (no job control): the group signals reach the program. When the
 * program ends, the shell exits, and the kernel kills whatever is left in the namespace.
 */
// The shell's own messages ("Terminated" when the program dies of SIGTERM) go to /dev/null:
// the program runs from a subshell that gets the real stderr back as fd 2 (and no fd 3).
const INIT_SCRIPT = 'exec 3>&2 2>/dev/null; (exec 2>&3 3>&-; exec "$@"); exit $?';

/** `argv` run inside a fresh PID namespace by `ns` (from `probePidNamespace`). */
export function pidNamespaceArgv(ns: PidNamespace, argv: string[]): string[] {
  return [...ns.prefix, '--', '/bin/sh', '-c', INIT_SCRIPT, 'patchbay-run', ...argv];
}

function succeeds(file: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000, encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve(err ? stderr.trim() || err.message : null);
    }).stdin?.end();
  });
}

/**
 * Finds how this machine can give a run its own PID namespace: `unshare --pid` directly
 * (root), or inside a user namespace that maps the current user to itself (an ordinary user
 * where unprivileged user namespaces are allowed). `--kill-child` ends the namespace when
 * `unshare` itself is killed (the supervisor's SIGKILL to the group, recovery's kill);
 * `--mount-proc` hides the server's /proc entries (its environment) from the run.
 * Resolves to the wrapper, or to the reasons each attempt failed.
 */
export async function probePidNamespace(
  unshare = 'unshare',
): Promise<PidNamespace | { reasons: string[] }> {
  const base = ['--pid', '--fork', '--kill-child', '--mount-proc'];
  const attempts: PidNamespace[] = [
    { prefix: [unshare, ...base], userNamespace: false },
    { prefix: [unshare, '--user', '--map-current-user', ...base], userNamespace: true },
  ];
  const reasons: string[] = [];
  for (const attempt of attempts) {
    const argv = pidNamespaceArgv(attempt, ['true']);
    const failure = await succeeds(argv[0]!, argv.slice(1));
    if (failure === null) return attempt;
    reasons.push(`${attempt.prefix.join(' ')}: ${failure}`);
  }
  return { reasons };
}

/** Signal number to name; the first name wins (SIGABRT, not its alias SIGIOT). */
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.signals)) {
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);
}

/**
 * Signals whose default action does not end a process (ignore, or stop): nothing is ever
 * killed by them, so a wrapped exit of 128 + one of these is the program's own exit code
 * (a gemini-cli run that failed on an API 401 was reported as "killed by SIGCHLD").
 */
const NEVER_KILLS = new Set([
  'SIGCHLD',
  'SIGCONT',
  'SIGURG',
  'SIGWINCH',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
]);

/**
 * A wrapper (bwrap, or the PID-namespace shell) reports a program killed by signal N as exit
 * code 128+N, like a shell; this turns it back into the signal. A program that itself exits
 * with such a code reads as killed by that signal, as it would from a shell, unless that
 * signal never kills (NEVER_KILLS).
 */
export function decodeWrappedExit(
  exitCode: number | null,
  signal: string | null,
): { exitCode: number | null; signal: string | null } {
  if (exitCode === null || exitCode <= 128) return { exitCode, signal };
  const name = SIGNAL_NAMES.get(exitCode - 128);
  return name && !NEVER_KILLS.has(name) ? { exitCode: null, signal: name } : { exitCode, signal };
}
