/**
 * A unified diff, one collapsible section per file, lines coloured by their first character.
 * Small on purpose: proposals change a few lines; run diffs have their own viewer.
 */
export function DiffBlock({ diff, testId }: { diff: string; testId?: string }) {
  const files = splitFiles(diff);
  if (files.length === 0) return <p className="muted">No changes.</p>;
  return (
    <div className="pl-diff" data-testid={testId}>
      {files.map((f) => (
        <details key={f.name} open className="pl-diff-file">
          <summary className="mono">{f.name}</summary>
          <pre className="pl-diff-body" tabIndex={0} aria-label={`diff of ${f.name}`}>
            {f.lines.map((line, i) => (
              <span key={i} className={lineClass(line)}>
                {line}
                {'\n'}
              </span>
            ))}
          </pre>
        </details>
      ))}
    </div>
  );
}

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return 'pl-d-meta';
  if (line.startsWith('+')) return 'pl-d-add';
  if (line.startsWith('-')) return 'pl-d-del';
  if (line.startsWith('@@')) return 'pl-d-hunk';
  return '';
}

function splitFiles(diff: string): { name: string; lines: string[] }[] {
  const files: { name: string; lines: string[] }[] = [];
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (m) files.push({ name: m[2] ?? m[1] ?? '?', lines: [] });
    else if (files.length === 0 && line) files.push({ name: '(diff)', lines: [line] });
    else files[files.length - 1]?.lines.push(line);
  }
  return files;
}
