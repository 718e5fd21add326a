import type { BudgetDay } from '../../../src/contracts/index.js';
import { niceTicks } from '../optimizer/stats.ts';

export type UsageMetric = 'runs' | 'agentMinutes' | 'usd';

export const METRICS: Readonly<Record<UsageMetric, { label: string; unit: string }>> = {
  runs: { label: 'Runs', unit: 'runs' },
  agentMinutes: { label: 'Agent minutes', unit: 'min' },
  usd: { label: 'Cost', unit: 'USD' },
};

const W = 640;
const H = 200;
const LEFT = 44;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 26;

/**
 * Use per budget day as bars (plain SVG), today last, with the day's limit as a dashed line
 * when there is one. The table under it holds the same numbers for screen readers.
 */
export function UsageChart({
  days,
  metric,
  limit,
  testId,
}: {
  days: readonly BudgetDay[];
  metric: UsageMetric;
  limit: number | null;
  testId?: string;
}) {
  const values = days.map((d) => d[metric]);
  const top = Math.max(1e-9, limit ?? 0, ...values) * 1.1;
  const y = (v: number): number => TOP + (1 - v / top) * (H - TOP - BOTTOM);
  const band = (W - LEFT - RIGHT) / Math.max(1, days.length);
  const fmt = (v: number): string =>
    metric === 'usd' ? `$${v.toFixed(2)}` : metric === 'agentMinutes' ? v.toFixed(1) : String(v);
  const ticks = niceTicks(0, top / 1.1, 4).filter((t) => t <= top);
  const every = Math.max(1, Math.ceil(days.length / 8));
  const { label, unit } = METRICS[metric];
  return (
    <figure className="plot" data-testid={testId} tabIndex={0}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-label={`${label} per day over ${days.length} days; today ${fmt(values[values.length - 1] ?? 0)} ${unit}`}
      >
        <title>{`${label} per day`}</title>
        {ticks.map((t) => (
          <g key={t} className="plot-grid">
            <line x1={LEFT} x2={W - RIGHT} y1={y(t)} y2={y(t)} />
            <text x={LEFT - 4} y={y(t) + 4} textAnchor="end">
              {fmt(t)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const v = d[metric];
          return (
            <g key={d.day}>
              <rect
                className={i === days.length - 1 ? 'bar bar-today' : 'bar'}
                x={LEFT + i * band + band * 0.15}
                y={y(v)}
                width={band * 0.7}
                height={Math.max(0, H - BOTTOM - y(v))}
              >
                <title>{`${d.day}: ${fmt(v)} ${unit}`}</title>
              </rect>
              {(days.length - 1 - i) % every === 0 ? (
                <text
                  className="plot-grid-text"
                  x={LEFT + i * band + band / 2}
                  y={H - 8}
                  textAnchor="middle"
                >
                  {d.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
        {limit !== null ? (
          <g className="limit">
            <line x1={LEFT} x2={W - RIGHT} y1={y(limit)} y2={y(limit)} />
            <text x={W - RIGHT - 2} y={y(limit) - 4} textAnchor="end">
              {`limit ${fmt(limit)}`}
            </text>
          </g>
        ) : null}
      </svg>
    </figure>
  );
}
