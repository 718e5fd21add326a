/**
 * A repository run's diff, one collapsible section per file. Loaded as its own chunk (the run
 * page imports it lazily). Lockfiles start collapsed; a file over the size limits shows on
 * request only, and a diff over MAX_TOTAL is cut.
 */
import { useState } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';

const LOCKFILES =
  /(?:^|\/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|Cargo\.lock|poetry\.lock|Pipfile\.lock|uv\.lock|Gemfile\.lock|composer\.lock|go\.sum|flake\.lock)$/;
const MAX_FILE_LINES = 1500;
const MAX_FILE_CHARS = 200_000;
const MAX_TOTAL = 5_000_000;

export interface DiffFile {
  path: string;
  lines: string[];
  added: number;
  removed: number;
  binary: boolean;
}

/** Splits a unified diff (`git diff` output) into files. */
export function parseDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let current: DiffFile | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
      current = { path: m?.[2] ?? line.slice(11), lines: [], added: 0, removed: 0, binary: false };
      files.push(current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith('Binary files')) current.binary = true;
    if (line.startsWith('+') && !line.startsWith('+++')) current.added++;
    else if (line.startsWith('-') && !line.startsWith('---')) current.removed++;
    current.lines.push(line);
  }
  return files;
}

function lineClass(line: string): string {
  if (line.startsWith('@@')) return 'd-hunk';
  if (line.startsWith('+++') || line.startsWith('---')) return 'd-meta';
  if (line.startsWith('+')) return 'd-add';
  if (line.startsWith('-')) return 'd-del';
  return '';
}

function FileDiff({ file }: { file: DiffFile }) {
  const lock = LOCKFILES.test(file.path);
  const big =
    file.lines.length > MAX_FILE_LINES ||
    file.lines.reduce((n, l) => n + l.length, 0) > MAX_FILE_CHARS;
  const [open, setOpen] = useState(!lock && !big);
  const body = `diff-${file.path}`;
  return (
    <section className="diff-file" data-testid={testIds.diff.file} data-path={file.path}>
      <h3>
        <button
          type="button"
          aria-expanded={open}
          aria-controls={body}
          onClick={() => setOpen(!open)}
          data-testid={testIds.diff.fileToggle}
        >
          <span className="mono">{file.path}</span> <span className="d-add">+{file.added}</span>{' '}
          <span className="d-del">−{file.removed}</span>
          {lock && <span className="muted"> · lockfile</span>}
          {big && (
            <span className="muted"> · large ({file.lines.length.toLocaleString()} lines)</span>
          )}
        </button>
      </h3>
      {open && (
        <pre id={body} className="diff-body mono">
          {file.binary
            ? 'Binary file'
            : file.lines.map((l, i) => (
                <div key={i} className={lineClass(l)}>
                  {l || ' '}
                </div>
              ))}
        </pre>
      )}
    </section>
  );
}

export default function DiffView({ runId }: { runId: string }) {
  const diff = useResource(runId, async () => {
    const text = await api.getRunDiff(runId);
    return { files: parseDiff(text.slice(0, MAX_TOTAL)), cut: text.length > MAX_TOTAL };
  });
  if (diff.error) {
    return (
      <p data-testid={testIds.diff.empty} className="muted">
        {diff.error}
      </p>
    );
  }
  if (!diff.data) return <p aria-busy="true">Loading the diff…</p>;
  if (diff.data.files.length === 0) {
    return (
      <p data-testid={testIds.diff.empty} className="muted">
        The run changed no file.
      </p>
    );
  }
  const added = diff.data.files.reduce((n, f) => n + f.added, 0);
  const removed = diff.data.files.reduce((n, f) => n + f.removed, 0);
  return (
    <div data-testid={testIds.diff.view}>
      <p>
        {diff.data.files.length} files changed, <span className="d-add">+{added}</span>{' '}
        <span className="d-del">−{removed}</span>
        {diff.data.cut && <span className="muted"> · the diff is cut at 5 MB</span>}
      </p>
      {diff.data.files.map((f) => (
        <FileDiff key={f.path} file={f} />
      ))}
    </div>
  );
}
