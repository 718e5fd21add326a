import { stripAnsi } from '../agents/index.js';
import type { GateResult } from '../contracts/index.js';

/** Lines that name what failed, in the formats of the common runners and compilers. */
const FAILURE_LINE =
  /\b(FAIL(ED)?|ERR!?|ERROR|Error|error( TS\d+)?|not ok|AssertionError|Expected|expected|Received|panicked|Traceback|Exception)\b|[\u2717\u2715\u00d7\u2716]/;

/** What of one gate's output goes back to the agent: at most this many characters. */
const MAX_GATE_CHARS = 6000;
const TAIL_LINES = 60;
const FAILURE_LINES = 40;

/**
 * The part of a failing gate's output an agent needs: ANSI codes and carriage-return progress
 * removed, the lines that name failures (test names, compiler errors, assertion diffs) from
 * anywhere in it, then its last lines, within MAX_GATE_CHARS.
 *
 * @example
 *   trimFailureOutput('\x1b[31m✗ adds\x1b[0m\n...500 lines...\nTests: 1 failed\n');
 *   // '✗ adds\n[…]\n…the last 60 lines…'
 */
export function trimFailureOutput(output: string): string {
  const lines = stripAnsi(output)
    .split('\n')
    // A progress bar redraws its line with \r: its last state is what was printed.
    .map((line) => line.slice(line.lastIndexOf('\r', line.length - 2) + 1).trimEnd())
    .filter((line, i, all) => line !== '' || (i > 0 && all[i - 1] !== ''));
  const tailStart = Math.max(0, lines.length - TAIL_LINES);
  const failures = lines
    .slice(0, tailStart)
    .filter((line) => FAILURE_LINE.test(line))
    .slice(0, FAILURE_LINES);
  const tail = lines.slice(tailStart);
  const parts = failures.length > 0 ? [...failures, '[…]', ...tail] : tail;
  let text = parts.join('\n').trim();
  if (text.length > MAX_GATE_CHARS) text = `[…]${text.slice(text.length - MAX_GATE_CHARS)}`;
  return text;
}

/** A gate that failed, with its output as printed (trimmed here). */
export interface FailedGate {
  result: GateResult;
  output: string;
}

/**
 * The follow-up turn that gives an agent its failing gates: which checks failed, how to run
 * them, and the part of their output that says why.
 */
export function fixPrompt(failed: readonly FailedGate[], round: number, maxRounds: number): string {
  const sections = failed.map(({ result, output }) => {
    const how =
      result.status === 'timed_out'
        ? 'did not finish in time'
        : `failed${result.exitCode !== null ? ` (exit ${result.exitCode})` : ''}`;
    return `## ${result.gate}: \`${result.command}\` ${how}\n\n\`\`\`\n${trimFailureOutput(output)}\n\`\`\``;
  });
  return [
    `Patchbay ran the repository's checks after your changes, and ${failed.length === 1 ? 'one' : failed.length} failed (fix round ${round} of ${maxRounds}).`,
    ...sections,
    'Fix the cause in the code (do not weaken or skip the checks), then stop: Patchbay runs the checks again.',
  ].join('\n\n');
}
