/**
 * `npm test`: the whole gate, one named step at a time, each with its duration.
 *
 *   npm test                      typecheck, lint, format check, cycles, build, then vitest
 *   npm test -- test/e2e/cli.test.ts -t embedded     extra arguments go to `vitest run`
 *
 * The checks used to run as one `&&` chain that printed minutes of tool output with no sign
 * of which step was running. Each step is still the package.json script of the same name (one
 * definition), run through `npm run --silent`. The first failing step stops the gate with its
 * exit code. Nothing is printed after vitest: CI reads vitest's own summary at the end of
 * the log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

interface Step {
  readonly name: string;
  /** The package.json script that does it. */
  readonly script: string;
  /** What to do when it fails, when the tool's own output does not say. */
  readonly hint?: string;
}

const CHECKS: readonly Step[] = [
  { name: 'typecheck', script: 'typecheck' },
  { name: 'lint', script: 'lint' },
  { name: 'format check', script: 'format:check', hint: 'run `npm run format` to fix' },
  { name: 'circular imports', script: 'cycles' },
  { name: 'file sizes', script: 'sizes', hint: 'split the file by concern (docs/architecture.md)' },
  { name: 'build', script: 'build' },
];
const TOTAL = CHECKS.length + 1;

let current: ChildProcess | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The child may have had it already (a terminal's Ctrl-C reaches the whole group).
    current?.kill(signal);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Runs `npm run --silent <script> [-- args]` with the terminal's stdio; resolves its exit code. */
function runScript(script: string, args: readonly string[] = []): Promise<number> {
  const argv = ['run', '--silent', script, ...(args.length > 0 ? ['--', ...args] : [])];
  return new Promise((resolve) => {
    const child = spawn('npm', argv, { stdio: 'inherit' });
    current = child;
    child.on('error', (err) => {
      process.stderr.write(`could not start npm: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      current = undefined;
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const heading = (n: number, name: string): void => {
  process.stdout.write(`\n[${n}/${TOTAL}] ${name}…\n`);
};

async function main(): Promise<number> {
  const vitestArgs = process.argv.slice(2);
  const started = Date.now();
  for (const [i, step] of CHECKS.entries()) {
    heading(i + 1, step.name);
    const t0 = Date.now();
    const code = await runScript(step.script);
    const took = seconds(Date.now() - t0);
    if (code !== 0) {
      const hint = step.hint ? `; ${step.hint}` : '';
      process.stderr.write(
        `[${i + 1}/${TOTAL}] ${step.name} FAILED (exit ${code}) after ${took}: ` +
          `\`npm run ${step.script}\` alone repeats it${hint}\n`,
      );
      return code;
    }
    process.stdout.write(`[${i + 1}/${TOTAL}] ${step.name} ok in ${took}\n`);
  }
  heading(TOTAL, `vitest (checks and build took ${seconds(Date.now() - started)})`);
  return runScript('test:unit', vitestArgs);
}

process.exitCode = await main();
