/**
 * The task graph as plain SVG: one column per lane (done in the past 7 days, today, this week,
 * this month), tasks stacked by score, edges drawn by kind (reply, issue link, mention,
 * temporal order). Each node links to its task in the inbox.
 */
import type { TaskGraph } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { Link, withQuery } from '../router.tsx';
import { LANE_LABEL, type EdgeKind, type Lane } from './inbox-api.ts';

const ids = testIds.graph;
type Node = TaskGraph['nodes'][number];

const LANE_W = 250;
const NODE_W = 220;
const NODE_H = 44;
const GAP = 14;
const HEAD = 40;
const PAD = 12;

export const EDGE_LABEL: Record<EdgeKind, string> = {
  reply: 'reply',
  issue_link: 'issue link',
  mention: 'mention',
  temporal: 'temporal order',
};

interface Placed {
  node: Node;
  x: number;
  y: number;
}

/** Where each node goes: its lane's column, ordered by score (past7d: newest first). */
export function layout(nodes: readonly Node[], lanes: readonly Lane[]): Map<string, Placed> {
  const placed = new Map<string, Placed>();
  lanes.forEach((lane, col) => {
    const inLane = nodes
      .filter((n) => n.lane === lane)
      .sort((a, b) => (lane === 'past7d' ? b.at.localeCompare(a.at) : b.score - a.score));
    inLane.forEach((node, row) => {
      placed.set(node.id, {
        node,
        x: col * LANE_W + (LANE_W - NODE_W) / 2,
        y: HEAD + PAD + row * (NODE_H + GAP),
      });
    });
  });
  return placed;
}

function edgePath(a: Placed, b: Placed): string {
  if (a.x === b.x) {
    // Same lane: an arc out to the right and back.
    const x = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const y2 = b.y + NODE_H / 2;
    const bulge = 18 + Math.min(24, Math.abs(y2 - y1) / 6);
    return `M${x},${y1} C${x + bulge},${y1} ${x + bulge},${y2} ${x},${y2}`;
  }
  const [left, right] = a.x < b.x ? [a, b] : [b, a];
  const x1 = left.x + NODE_W;
  const x2 = right.x;
  const y1 = left.y + NODE_H / 2;
  const y2 = right.y + NODE_H / 2;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
}

export function GraphSvg({
  graph,
  lanes,
}: {
  graph: { nodes: readonly Node[]; edges: TaskGraph['edges'] };
  lanes: readonly Lane[];
}) {
  const placed = layout(graph.nodes, lanes);
  const rows = Math.max(1, ...lanes.map((l) => graph.nodes.filter((n) => n.lane === l).length));
  const width = lanes.length * LANE_W;
  const height = HEAD + PAD * 2 + rows * (NODE_H + GAP);
  return (
    <svg
      className="ib-graph"
      viewBox={`0 0 ${width} ${height}`}
      data-testid={ids.svg}
      aria-label={`Task graph: ${graph.nodes.length} tasks, ${graph.edges.length} edges`}
    >
      {lanes.map((lane, col) => (
        <g key={lane}>
          <rect
            className="ib-lane-bg"
            x={col * LANE_W + 4}
            y={4}
            width={LANE_W - 8}
            height={height - 8}
            rx={6}
          />
          <text className="ib-lane-title" x={col * LANE_W + 16} y={26}>
            {LANE_LABEL[lane]} ({graph.nodes.filter((n) => n.lane === lane).length})
          </text>
        </g>
      ))}
      <g aria-hidden="true">
        {graph.edges.map((e, i) => {
          const a = placed.get(e.from);
          const b = placed.get(e.to);
          if (!a || !b) return null;
          return (
            <path
              key={`${e.from}-${e.to}-${e.kind}-${i}`}
              className={`ib-edge ib-edge-${e.kind}`}
              d={edgePath(a, b)}
              data-testid={ids.edge}
              data-kind={e.kind}
              data-from={e.from}
              data-to={e.to}
            />
          );
        })}
      </g>
      {[...placed.values()].map(({ node, x, y }) => (
        <Link
          key={node.id}
          to={withQuery('/inbox', {
            horizon: node.lane,
            task: node.id,
          })}
          className={`ib-node${node.state === 'done' ? ' ib-done' : ''}`}
          data-testid={ids.node}
          data-task-id={node.id}
          data-lane={node.lane}
        >
          {/* The whole title, clipped to the box (not cut short): the link's name is its text. */}
          <clipPath id={`clip-${node.id}`}>
            <rect x={x + 4} y={y} width={NODE_W - 8} height={NODE_H} />
          </clipPath>
          <rect x={x} y={y} width={NODE_W} height={NODE_H} rx={5} />
          <text x={x + 8} y={y + 17} clipPath={`url(#clip-${node.id})`}>
            {node.title}
          </text>
          <text className="ib-node-meta" x={x + 8} y={y + 34}>
            {node.kind} · {node.state} · {node.score}
          </text>
        </Link>
      ))}
    </svg>
  );
}
