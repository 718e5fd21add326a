import { createProgram } from './program.js';
import { reportError } from './output.js';

createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportError(err);
  });
