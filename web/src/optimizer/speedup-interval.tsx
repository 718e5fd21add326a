import { percent, scaleFor } from './stats.ts';

export interface SpeedupIntervalProps {
  /** Median ratio base / candidate (the point estimate). */
  estimate: number;
  /** Proven lower bound of the speedup, as a fraction (0.61 → 1.61×). */
  lowerBound: number;
  /** The bar it had to clear and the repository's A/A noise floor, as fractions. */
  threshold: number;
  noiseFloor: number;
  /** Confidence level of the bound, e.g. 0.95. */
  confidence: number;
  testId?: string;
}

const W = 640;
const H = 92;
const LEFT = 16;
const RIGHT = 16;
const MID = 40;

/**
 * The proven speedup against the noise: the A/A noise floor as a shaded band above 1×, the
 * bar the change had to clear, and the one-sided confidence interval [lower bound, ∞) with
 * the median ratio marked. A bound right of the bar is what made it a proposal.
 */
export function SpeedupInterval(props: SpeedupIntervalProps) {
  const { estimate, lowerBound, threshold, noiseFloor, confidence, testId } = props;
  const lb = 1 + lowerBound;
  const bar = 1 + threshold;
  const floor = 1 + noiseFloor;
  const hiValue = Math.max(estimate, lb, bar, floor) * 1.08;
  const scale = scaleFor(Math.min(0.95, lb), hiValue, LEFT, W - RIGHT, 6);
  const x = scale.at;
  const ticks = scale.ticks;
  const cleared = lb > bar;
  const label =
    `${Math.round(confidence * 100)} % lower bound ${lb.toFixed(2)}×, ` +
    `${cleared ? 'above' : 'not above'} the bar ${bar.toFixed(2)}× ` +
    `(noise floor ${percent(noiseFloor)}); median ratio ${estimate.toFixed(2)}×`;
  return (
    <figure className="plot" data-testid={testId} tabIndex={0}>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={label}>
        <title>{label}</title>
        <rect
          className="ci-noise"
          x={x(1)}
          y={MID - 22}
          width={Math.max(1, x(floor) - x(1))}
          height={44}
        />
        {ticks.map((t) => (
          <g key={t} className="plot-grid">
            <line x1={x(t)} x2={x(t)} y1={MID - 24} y2={MID + 24} />
            <text x={x(t)} y={MID + 40} textAnchor="middle">
              {`${t.toFixed(2)}×`}
            </text>
          </g>
        ))}
        <line className="ci-one" x1={x(1)} x2={x(1)} y1={MID - 26} y2={MID + 26} />
        <line className="ci-bar" x1={x(bar)} x2={x(bar)} y1={MID - 26} y2={MID + 26} />
        <line className="ci-interval" x1={x(lb)} x2={W - RIGHT} y1={MID} y2={MID} />
        <line className="ci-interval" x1={x(lb)} x2={x(lb)} y1={MID - 9} y2={MID + 9} />
        <circle className="ci-estimate" cx={x(estimate)} cy={MID} r={5} />
        <text className="ci-note" x={x(1) + 3} y={MID - 28}>
          noise
        </text>
        <text className="ci-note" x={x(bar) + 3} y={MID + 22}>
          bar
        </text>
      </svg>
      <figcaption className="muted">{label}</figcaption>
    </figure>
  );
}
