/** One run: its header and controls, and tabs for the live log, the events and the diff. */
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import type { PageProps } from '../routes.ts';
import { Link } from '../router.tsx';
import { formatTime, runTitle } from './format.ts';
import { StatusBadge } from './status-badge.tsx';

export default function RunPage({ params }: PageProps) {
  const id = params.id ?? '';
  const run = useResource(id, () => api.getRun(id));
  if (run.error)
    return (
      <p role="alert" className="error">
        {run.error}
      </p>
    );
  if (!run.data) return <p aria-busy="true">Loading…</p>;
  const r = run.data;
  return (
    <section data-testid={testIds.run.page}>
      <p>
        <Link to="/runs">Runs</Link> / <span className="mono">{r.id}</span>
      </p>
      <h1>{runTitle(r)}</h1>
      <p>
        <StatusBadge status={r.status} testId={testIds.run.status} /> {r.agent} · created{' '}
        {formatTime(r.createdAt)}
      </p>
    </section>
  );
}
