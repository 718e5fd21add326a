import { useState } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { StoredProposal } from '../../../src/contracts/index.js';
import { errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { pagesApi, type PullRequest } from '../pages-lib/api.ts';
import { Field, LoadState } from '../pages-lib/bits.tsx';
import { DiffBlock } from '../pages-lib/diff-block.tsx';
import { Link, useQueryParam } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { formatDuration } from '../runs/format.ts';
import { attemptOf, gateOf, type Attempt } from './attempts.ts';
import { SamplePlot } from './sample-plot.tsx';
import { SpeedupInterval } from './speedup-interval.tsx';
import { formatNs, headline, percent } from './stats.ts';
import '../pages-lib/pages.css';

const ids = testIds.proposal;

interface Loaded {
  proposal: StoredProposal;
  attempts: Attempt[] | null;
}

async function load(id: string): Promise<Loaded> {
  const proposal = await pagesApi.getProposal(id);
  const artifact = proposal.artifacts.find((a) => a.name === 'attempts.json');
  const attempts = artifact
    ? (JSON.parse(await pagesApi.artifactText(artifact.id)) as Attempt[])
    : null;
  return { proposal, attempts };
}

/** `/optimizer/proposals/:id`: one proven speedup, its evidence and what can be done with it. */
export default function ProposalPage({ params }: PageProps) {
  const id = params.id ?? '';
  const { data, error, loading } = useResource(`proposal:${id}`, () => load(id));
  const [benchmark, setBenchmark] = useQueryParam('benchmark');
  if (!data) {
    return (
      <section data-testid={ids.page}>
        <h1>Proposal</h1>
        <LoadState loading={loading} error={error} />
      </section>
    );
  }
  const { proposal, attempts } = data;
  const attempt = attempts ? attemptOf(attempts, proposal) : undefined;
  const metrics = proposal.metrics;
  const best = [...metrics].sort((a, b) => b.lowerBoundSpeedup - a.lowerBoundSpeedup)[0];
  // Every benchmark that ran has samples; the decision (and so the interval) used the judged ones.
  const measured = attempt?.validation?.benchmarks ?? [];
  const names = measured.length > 0 ? measured.map((b) => b.name) : metrics.map((m) => m.benchmark);
  const shown = names.includes(benchmark) ? benchmark : (best?.benchmark ?? names[0] ?? '');
  const samples = measured.find((b) => b.name === shown);
  // The interval of the benchmark shown when it was judged, else of the best one.
  const judged = metrics.find((m) => m.benchmark === shown) ?? best;
  return (
    <section data-testid={ids.page} className="opt-proposal">
      <p className="muted">
        <Link to="/optimizer">Optimizer</Link> ›{' '}
        <Link to={`/optimizer?optimization=${encodeURIComponent(proposal.optimizationId)}`}>
          optimization {proposal.optimizationId}
        </Link>
      </p>
      <h1>
        <span className="mono">{proposal.rule}</span> in{' '}
        <span className="mono">
          {proposal.file}:{proposal.line}
        </span>
      </h1>
      <p className="opt-headline" data-testid={ids.headline}>
        {best
          ? headline(best.baseMedianNs, best.candidateMedianNs)
          : 'safe refactor: no benchmark measured it'}
        {best ? <span className="muted"> on {best.benchmark}</span> : null}
      </p>
      <p>
        <span className={`badge ${proposal.confidence === 'proven' ? 'ok' : 'warn'}`}>
          {proposal.confidence}
        </span>{' '}
        <span className="badge">risk {proposal.risk}</span>{' '}
        {best ? <span>proven at least {percent(best.lowerBoundSpeedup)} faster</span> : null}
      </p>
      <p>{proposal.explanation}</p>
      <PullRequestAction proposal={proposal} />

      {shown ? (
        <>
          <h2>Samples</h2>
          {names.length > 1 ? (
            <label className="opt-inline">
              Benchmark{' '}
              <select
                data-testid={ids.benchmark}
                value={shown}
                onChange={(e) => setBenchmark(e.target.value)}
              >
                {names.map((name) => (
                  <option key={name} value={name}>
                    {name}
                    {metrics.some((m) => m.benchmark === name) ? '' : ' (not judged)'}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {samples ? (
            <SamplePlot
              name={shown}
              base={samples.base}
              candidate={samples.candidate}
              testId={ids.plot}
            />
          ) : (
            <p className="muted">The samples of this benchmark are not in the stored artifacts.</p>
          )}
          {samples && !samples.judged ? (
            <p className="muted">
              Not judged:{' '}
              {samples.optimizedOut
                ? 'it runs as fast as an empty function (optimized out).'
                : 'coverage shows it does not run the changed code.'}
            </p>
          ) : null}
        </>
      ) : null}
      {judged ? (
        <>
          <h2>
            Speedup against the noise <span className="muted">({judged.benchmark})</span>
          </h2>
          <SpeedupInterval
            estimate={judged.baseMedianNs / judged.candidateMedianNs}
            lowerBound={judged.lowerBoundSpeedup}
            threshold={judged.threshold}
            noiseFloor={proposal.evidence.noiseFloor}
            confidence={1 - proposal.evidence.alpha}
            testId={ids.interval}
          />
          <div
            className="table-scroll"
            tabIndex={0}
            role="region"
            aria-label="Benchmarks the decision was made on"
          >
            <table>
              <caption className="visually-hidden">Benchmarks the decision was made on</caption>
              <thead>
                <tr>
                  <th scope="col">benchmark</th>
                  <th scope="col">baseline median</th>
                  <th scope="col">candidate median</th>
                  <th scope="col">n</th>
                  <th scope="col">p</th>
                  <th scope="col">proven ≥</th>
                  <th scope="col">bar</th>
                </tr>
              </thead>
              <tbody>
                {metrics.map((m) => (
                  <tr key={m.benchmark}>
                    <td className="mono">{m.benchmark}</td>
                    <td>{formatNs(m.baseMedianNs)}</td>
                    <td>{formatNs(m.candidateMedianNs)}</td>
                    <td>
                      {m.baseSamples}/{m.candidateSamples}
                    </td>
                    <td>{m.pValue.toPrecision(2)}</td>
                    <td>{percent(m.lowerBoundSpeedup)}</td>
                    <td>{percent(m.threshold)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}

      <h2>Tests</h2>
      {attempt?.validation ? (
        <ul data-testid={ids.tests} className="opt-steps">
          {attempt.validation.steps.map((s) => (
            <li key={s.kind}>
              <span className={`badge ${s.ok ? 'ok' : 'bad'}`}>{s.ok ? 'passed' : 'failed'}</span>{' '}
              <span className="mono">{s.kind}</span>{' '}
              <span className="muted">
                {formatDuration(s.durationMs)}
                {s.flaky ? ', flaky' : ''}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No validation record for this candidate.</p>
      )}

      <h2>Diff</h2>
      <DiffBlock diff={proposal.diff} testId={ids.diff} />

      <h2>Attempts</h2>
      <AttemptTrace proposal={proposal} attempts={attempts} attempt={attempt} />

      <h2>Evidence</h2>
      <dl className="opt-facts">
        <Field label="commit">
          <span className="mono">{proposal.evidence.commit.slice(0, 12)}</span>
        </Field>
        <Field label="node">{proposal.evidence.node}</Field>
        <Field label="samples per side">{proposal.evidence.samples}</Field>
        <Field label="α">{proposal.evidence.alpha}</Field>
        <Field label="noise floor">{percent(proposal.evidence.noiseFloor)}</Field>
      </dl>
      <ul className="opt-artifacts">
        {proposal.artifacts.map((a) => (
          <li key={a.id}>
            <a href={`/v1/artifacts/${encodeURIComponent(a.id)}`} download={a.name}>
              {a.name}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function AttemptTrace({
  proposal,
  attempts,
  attempt,
}: {
  proposal: StoredProposal;
  attempts: Attempt[] | null;
  attempt: Attempt | undefined;
}) {
  const rows = attempts
    ? attempts.map((a) => ({
        rule: a.opportunity.rule,
        where: `${a.opportunity.file}:${a.opportunity.line}`,
        candidateId: a.candidateId,
        outcome: a.outcome,
        gate: gateOf(a),
        reason: a.reason,
      }))
    : proposal.timeline.map((t) => ({
        rule: t.rule,
        where: `${t.file}:${t.line}`,
        candidateId: t.candidateId,
        outcome: t.outcome,
        gate: t.outcome,
        reason: t.reason,
      }));
  return (
    <div
      className="table-scroll"
      tabIndex={0}
      role="region"
      aria-label="Every candidate and the gate it stopped at"
    >
      <table data-testid={ids.trace}>
        <caption className="visually-hidden">Every candidate and the gate it stopped at</caption>
        <thead>
          <tr>
            <th scope="col">rule</th>
            <th scope="col">where</th>
            <th scope="col">outcome</th>
            <th scope="col">gate</th>
            <th scope="col">why</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const mine = r.candidateId !== null && r.candidateId === attempt?.candidateId;
            return (
              <tr key={i} data-testid={ids.traceRow} className={mine ? 'opt-mine' : undefined}>
                <td className="mono">{r.rule}</td>
                <td className="mono">{r.where}</td>
                <td>
                  <span
                    className={`badge ${r.outcome === 'accepted' ? 'ok' : r.outcome === 'rejected' ? 'bad' : 'warn'}`}
                  >
                    {r.outcome}
                  </span>
                </td>
                <td>{r.gate}</td>
                <td className="opt-why">{r.reason}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** "Create pull request": the API opens one when the repository is on GitHub and a token is set. */
function PullRequestAction({ proposal }: { proposal: StoredProposal }) {
  const [state, setState] = useState<{ busy: boolean; pr?: PullRequest; error?: string }>({
    busy: false,
  });
  const open = (): void => {
    setState({ busy: true });
    pagesApi.openPullRequest(proposal.optimizationId, proposal.id).then(
      (pr) => setState({ busy: false, pr }),
      (err: unknown) => setState({ busy: false, error: errorText(err) }),
    );
  };
  return (
    <div className="opt-actions">
      <button
        type="button"
        className="primary"
        data-testid={ids.pullRequest}
        disabled={state.busy || state.pr !== undefined}
        onClick={open}
      >
        {state.busy ? 'Opening…' : 'Create pull request'}
      </button>{' '}
      <a
        href={`data:text/x-diff;charset=utf-8,${encodeURIComponent(proposal.diff)}`}
        download={`${proposal.id}.patch`}
      >
        Download patch
      </a>
      <p data-testid={ids.actionResult} aria-live="polite">
        {state.pr ? (
          <a href={state.pr.url}>
            Pull request #{state.pr.number} ({state.pr.branch})
          </a>
        ) : state.error ? (
          <span className="error">{state.error}</span>
        ) : null}
      </p>
    </div>
  );
}
