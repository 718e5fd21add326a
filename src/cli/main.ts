import { CommanderError } from 'commander';
import { createProgram } from './program.js';
import { EXIT, reportError } from './output.js';

createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    // Commander has printed its message (or the help) already; only the exit code is ours.
    if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    else process.exitCode = reportError(err);
  });
