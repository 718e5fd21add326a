/**
 * `/inbox/graph`: how the tasks relate (GET /v1/graph), drawn as plain SVG in lanes, with the
 * filters of GET /v1/graph/filters in the URL (`?window=`, `?kind=`, `?state=`, `?edge=`).
 * A table lists the same edges for screen readers and small screens.
 */
import { testIds } from '../../../src/contracts/test-ids.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link, useQueryParam, withQuery } from '../router.tsx';
import { EDGE_LABEL, GraphSvg } from './graph-svg.tsx';
import { inboxApi, LANE_LABEL, type EdgeKind, type Lane } from './inbox-api.ts';
import '../pages-lib/pages.css';
import './inbox.css';

const ids = testIds.graph;
const EDGE_KINDS = Object.keys(EDGE_LABEL) as EdgeKind[];

export default function GraphPage() {
  const [windowParam, setWindow] = useQueryParam('window');
  const [kind, setKind] = useQueryParam('kind');
  const [state, setState] = useQueryParam('state');
  const [edge, setEdge] = useQueryParam('edge');
  const win = windowParam === 'week' ? 'week' : 'month';
  const lanes: Lane[] =
    win === 'week' ? ['past7d', 'today', 'week'] : ['past7d', 'today', 'week', 'month'];
  const filters = useResource('graph-filters', () => inboxApi.graphFilters());
  const graph = useResource(`graph:${win}:${kind}:${state}`, () =>
    inboxApi.graph({ window: win, ...(kind ? { kind } : {}), ...(state ? { state } : {}) }),
  );
  const edges = (graph.data?.edges ?? []).filter((e) => !edge || e.kind === edge);
  const titles = new Map((graph.data?.nodes ?? []).map((n) => [n.id, n.title]));
  return (
    <section data-testid={ids.page}>
      <h1>Task graph</h1>
      <nav className="tabs" aria-label="Inbox views">
        <Link to="/inbox">Inbox</Link>
        <Link to={withQuery('/inbox/graph', { window: windowParam || null })} aria-current="page">
          Graph
        </Link>
      </nav>
      <div className="filters">
        <label className="field">
          Window
          <select
            value={win}
            data-testid={ids.window}
            onChange={(e) => setWindow(e.target.value === 'month' ? null : e.target.value)}
          >
            <option value="week">this week</option>
            <option value="month">this month</option>
          </select>
        </label>
        <label className="field">
          Source
          <select
            value={kind}
            data-testid={ids.kind}
            onChange={(e) => setKind(e.target.value || null)}
          >
            <option value="">all</option>
            {filters.data?.kinds.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label className="field">
          State
          <select
            value={state}
            data-testid={ids.state}
            onChange={(e) => setState(e.target.value || null)}
          >
            <option value="">all</option>
            {filters.data?.states.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Edges
          <select
            value={edge}
            data-testid={ids.edgeKind}
            onChange={(e) => setEdge(e.target.value || null)}
          >
            <option value="">all kinds</option>
            {(filters.data?.edgeKinds ?? EDGE_KINDS).map((k) => (
              <option key={k} value={k}>
                {EDGE_LABEL[k]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <LoadState loading={graph.loading && !graph.data} error={graph.error ?? filters.error} />
      {graph.data ? (
        <>
          <p data-testid={ids.summary}>
            {graph.data.nodes.length} tasks, {edges.length} edges
            {lanes.map((l) => (
              <span key={l} className="muted">
                {' · '}
                {LANE_LABEL[l]}: {graph.data!.nodes.filter((n) => n.lane === l).length}
              </span>
            ))}
          </p>
          <ul className="ib-legend" aria-label="Edge kinds">
            {EDGE_KINDS.map((k) => (
              <li key={k}>
                <svg width="28" height="10" aria-hidden="true">
                  <path className={`ib-edge ib-edge-${k}`} d="M1,5 L27,5" />
                </svg>
                {EDGE_LABEL[k]}
              </li>
            ))}
          </ul>
          <div className="ib-graph-scroll" tabIndex={0} role="region" aria-label="Graph drawing">
            <GraphSvg graph={{ nodes: graph.data.nodes, edges }} lanes={lanes} />
          </div>
          <details>
            <summary>The edges as a table</summary>
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">Edges</caption>
                <thead>
                  <tr>
                    <th scope="col">from</th>
                    <th scope="col">kind</th>
                    <th scope="col">to</th>
                  </tr>
                </thead>
                <tbody>
                  {edges.map((e, i) => (
                    <tr key={i}>
                      <td data-label="from">{titles.get(e.from) ?? e.from}</td>
                      <td data-label="kind">{EDGE_LABEL[e.kind]}</td>
                      <td data-label="to">{titles.get(e.to) ?? e.to}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      ) : null}
    </section>
  );
}
