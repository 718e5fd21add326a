import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import type { Logger } from '../../observability/index.js';

export const WORKFLOWS_DIR = '.github/workflows';

/** One shell command a GitHub Actions `run:` step executes, and where it is written. */
export interface WorkflowCommand {
  readonly command: string;
  /** Repo-relative workflow file. */
  readonly file: string;
  /** 1-based line of the command in the workflow file. */
  readonly line: number;
  /** That line, trimmed. */
  readonly text: string;
}

/**
 * Split a `run:` script into the commands it runs: one per line (backslash continuations
 * joined), then at `&&` and `;` outside quotes. Comments, blank lines and shell control
 * keywords are dropped; `||` and pipes stay inside their command, since `npm test || true`
 * is one thing to run. `firstLine` is the index (in `script`'s lines) where each command starts.
 */
export function splitRunScript(script: string): { command: string; firstLine: number }[] {
  const physical = script.split(/\r?\n/);
  const out: { command: string; firstLine: number }[] = [];
  for (let i = 0; i < physical.length; i += 1) {
    const firstLine = i;
    let logical = physical[i] ?? '';
    while (/\\\s*$/.test(logical) && i + 1 < physical.length) {
      i += 1;
      logical = logical.replace(/\\\s*$/, ' ') + (physical[i] ?? '').trim();
    }
    for (const piece of splitOutsideQuotes(stripComment(logical))) {
      // `then npm test` inside `if …; then npm test; fi` still runs `npm test`.
      const command = piece
        .trim()
        .replace(/\s+/g, ' ')
        .replace(/^(then|do|else) /, '');
      if (command === '' || isControlWord(command)) continue;
      out.push({ command, firstLine });
    }
  }
  return out;
}

const CONTROL = /^(if|then|else|elif|fi|for|while|until|do|done|case|esac|function)\b|^[{}]$/;

function isControlWord(command: string): boolean {
  return CONTROL.test(command);
}

/** Drop a `# comment` that starts a line or follows whitespace outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function splitOutsideQuotes(line: string): string[] {
  const pieces: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ';' || (c === '&' && line[i + 1] === '&')) {
      pieces.push(line.slice(start, i));
      if (c === '&') i += 1;
      start = i + 1;
    }
  }
  pieces.push(line.slice(start));
  return pieces;
}

/** A working directory other than the repository root: the commands are about a sub-package. */
function isSubdirectory(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const dir = value
    .trim()
    .replace(/^\.\/?/, '')
    .replace(/\/$/, '');
  return dir !== '' && dir !== '${{ github.workspace }}';
}

function workingDirectory(map: YAMLMap | undefined): unknown {
  return map?.getIn(['defaults', 'run', 'working-directory']);
}

/**
 * Every command of every `run:` step in `.github/workflows/*.yml|yaml`, in file order (files
 * sorted by name). Steps or jobs that run in a sub-directory are skipped: detection describes
 * the repository root. A workflow that is not valid YAML is skipped with a warning.
 */
export async function readWorkflowCommands(root: string, log?: Logger): Promise<WorkflowCommand[]> {
  let names: string[];
  try {
    names = await readdir(join(root, WORKFLOWS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: WorkflowCommand[] = [];
  for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = `${WORKFLOWS_DIR}/${name}`;
    const text = await readFile(join(root, file), 'utf8');
    out.push(...parseWorkflow(file, text, log));
  }
  return out;
}

/** The commands of one workflow file's text (see readWorkflowCommands). */
export function parseWorkflow(file: string, text: string, log?: Logger): WorkflowCommand[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    log?.warn({ file, error: doc.errors[0]?.message }, 'workflow is not valid YAML; skipped');
    return [];
  }
  const sourceLines = text.split(/\r?\n/);
  const top = isMap(doc.contents) ? doc.contents : undefined;
  const jobs = top?.get('jobs', true);
  if (!isMap(jobs)) return [];
  if (isSubdirectory(workingDirectory(top))) return [];

  const out: WorkflowCommand[] = [];
  for (const pair of jobs.items) {
    const job = isMap(pair.value) ? pair.value : undefined;
    if (!job || isSubdirectory(workingDirectory(job))) continue;
    const steps = job.get('steps', true);
    if (!isSeq(steps)) continue;
    for (const step of steps.items) {
      if (!isMap(step) || isSubdirectory(step.get('working-directory'))) continue;
      const run = step.get('run', true);
      if (!isScalar(run) || typeof run.value !== 'string' || !run.range) continue;
      const startLine = lineCounter.linePos(run.range[0]).line;
      const endLine = lineCounter.linePos(run.range[1]).line;
      const scriptLines = run.value.split(/\r?\n/);
      // `cd package` then `npm run test`: the rest of the script runs in a sub-package, as a
      // step's working-directory would say.
      let elsewhere = false;
      for (const { command, firstLine } of splitRunScript(run.value)) {
        const cd = /^cd\s+(\S+)$/.exec(command);
        if (cd) {
          if (isSubdirectory(cd[1])) elsewhere = true;
          continue;
        }
        if (elsewhere) continue;
        const line = locateLine(sourceLines, startLine, endLine, scriptLines[firstLine] ?? command);
        out.push({ command, file, line, text: (sourceLines[line - 1] ?? '').trim() });
      }
    }
  }
  return out;
}

/**
 * The source line of a script line: the first line from the scalar's start that contains it.
 * Block scalars start on their `|` header and quoted ones may be folded, so the value's line
 * numbers do not map onto the file's; searching for the text does.
 */
function locateLine(
  sourceLines: readonly string[],
  startLine: number,
  endLine: number,
  scriptLine: string,
): number {
  const needle = scriptLine.trim().slice(0, 60);
  if (needle === '') return startLine;
  for (let i = startLine - 1; i < endLine; i += 1) {
    if ((sourceLines[i] ?? '').includes(needle)) return i + 1;
  }
  // A folded block (`>`) joined several source lines into one: find the line it starts on.
  for (let i = startLine; i < endLine; i += 1) {
    const text = (sourceLines[i] ?? '').trim();
    if (text !== '' && needle.startsWith(text)) return i + 1;
  }
  return startLine;
}
