// Finding processes from the host's /proc: what a run left behind, even in a PID namespace
// (where the pids it printed mean nothing here).
import { readdirSync, readFileSync } from 'node:fs';

/** Whether `pid` is alive and not a zombie (PID 1 of a container may never reap). */
export function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold spaces.
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Live processes whose argv contains `arg` as a whole argument. */
export function processesWithArg(arg: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv.includes(arg) && isLive(Number(name))) found.push(Number(name));
  }
  return found;
}

/** A fresh mark for `test/fixtures/agents/escape.sh`: its escapees run `sleep <1000.mark>`. */
export function escapeMark(): { mark: string; arg: string } {
  const mark = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
  return { mark, arg: `1000.${mark}` };
}

/** SIGKILLs every live process with `arg` (a failed test must not leave its escapees). */
export function killWithArg(arg: string): void {
  for (const pid of processesWithArg(arg)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
