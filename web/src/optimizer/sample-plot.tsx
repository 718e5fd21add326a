import { boxStats, formatNs, scaleFor, type BoxStats } from './stats.ts';

export interface SamplePlotProps {
  /** Benchmark name, for the title. */
  name: string;
  base: readonly number[];
  candidate: readonly number[];
  testId?: string;
}

const W = 640;
const ROW = 56;
const LEFT = 92;
const RIGHT = 16;
const TOP = 12;
const AXIS = 34;

/**
 * Baseline vs candidate samples of one benchmark as a strip plot over a box plot (plain SVG:
 * no chart library in the bundle). Each dot is one benchmark process; the box spans the
 * quartiles, the line is the median, the whiskers reach the extremes. Lower is faster.
 */
export function SamplePlot({ name, base, candidate, testId }: SamplePlotProps) {
  const all = [...base, ...candidate];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const scale = scaleFor(lo, hi, LEFT, W - RIGHT);
  const x = scale.at;
  const ticks = scale.ticks;
  const height = TOP + ROW * 2 + AXIS;
  const rows: { label: string; samples: readonly number[]; cls: string }[] = [
    { label: 'baseline', samples: base, cls: 'plot-base' },
    { label: 'candidate', samples: candidate, cls: 'plot-cand' },
  ];
  const stats = rows.map((r) => boxStats(r.samples));
  const summary = rows
    .map((r, i) => {
      const s = stats[i];
      return s ? `${r.label}: ${r.samples.length} samples, median ${formatNs(s.median)}` : '';
    })
    .join('; ');
  return (
    <figure className="plot" data-testid={testId} tabIndex={0}>
      <svg
        viewBox={`0 0 ${W} ${height}`}
        width="100%"
        role="img"
        aria-label={`${name}: time per operation. ${summary}`}
      >
        <title>{`${name}: time per operation (lower is faster)`}</title>
        {ticks.map((t) => (
          <g key={t} className="plot-grid">
            <line x1={x(t)} x2={x(t)} y1={TOP} y2={TOP + ROW * 2} />
            <text x={x(t)} y={TOP + ROW * 2 + 16} textAnchor="middle">
              {formatNs(t)}
            </text>
          </g>
        ))}
        {rows.map((row, i) => {
          const mid = TOP + ROW * i + ROW / 2;
          const s = stats[i];
          return (
            <g key={row.label} className={row.cls}>
              <text x={LEFT - 8} y={mid + 4} textAnchor="end" className="plot-label">
                {row.label}
              </text>
              {s ? <Box stats={s} x={x} mid={mid} /> : null}
              {row.samples.map((v, j) => (
                <circle
                  key={j}
                  className="plot-dot"
                  cx={x(v)}
                  cy={mid + jitter(j, ROW * 0.32)}
                  r={3.2}
                >
                  <title>{formatNs(v)}</title>
                </circle>
              ))}
            </g>
          );
        })}
        <text x={(LEFT + W - RIGHT) / 2} y={height - 2} textAnchor="middle" className="plot-axis">
          {`time per operation${scale.log ? ', log scale' : ''} (lower is faster)`}
        </text>
      </svg>
    </figure>
  );
}

function Box({ stats, x, mid }: { stats: BoxStats; x: (v: number) => number; mid: number }) {
  const h = 18;
  return (
    <g className="plot-box">
      <line x1={x(stats.min)} x2={x(stats.q1)} y1={mid} y2={mid} />
      <line x1={x(stats.q3)} x2={x(stats.max)} y1={mid} y2={mid} />
      <line x1={x(stats.min)} x2={x(stats.min)} y1={mid - h / 3} y2={mid + h / 3} />
      <line x1={x(stats.max)} x2={x(stats.max)} y1={mid - h / 3} y2={mid + h / 3} />
      <rect
        x={x(stats.q1)}
        y={mid - h / 2}
        width={Math.max(1, x(stats.q3) - x(stats.q1))}
        height={h}
      />
      <line
        className="plot-median"
        x1={x(stats.median)}
        x2={x(stats.median)}
        y1={mid - h / 2}
        y2={mid + h / 2}
      />
    </g>
  );
}

/** A fixed, spread-out vertical offset per sample index (no randomness: stable screenshots). */
function jitter(i: number, span: number): number {
  const golden = 0.6180339887;
  return (((i * golden) % 1) - 0.5) * span;
}
