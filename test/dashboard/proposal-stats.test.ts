/** The proposal page's numbers: the headline, quartiles and the axis scales of its plots. */
import { describe, expect, it } from 'vitest';
import { boxStats, headline, niceTicks, scaleFor } from '../../web/src/optimizer/stats.js';

describe('proposal numbers', () => {
  it('reads the headline off the medians', () => {
    expect(headline(1.74, 1)).toBe('1.74× faster, −42.5 % time');
    expect(headline(100, 125)).toBe('1.25× slower, +25.0 % time');
    expect(headline(0, 1)).toBe('no measured change');
  });

  it('summarises samples as quartiles (linear interpolation)', () => {
    expect(boxStats([4, 1, 3, 2])).toEqual({ min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4 });
    expect(boxStats([])).toBeNull();
  });

  it('picks round ticks, and a log scale when the values span more than 8×', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    const linear = scaleFor(100, 200, 0, 100);
    expect(linear.log).toBe(false);
    expect(linear.at(100)).toBeLessThan(linear.at(200));
    const log = scaleFor(4_000, 400_000, 0, 100);
    expect(log.log).toBe(true);
    // Equal ratios are equal distances on a log axis.
    expect(log.at(40_000) - log.at(4_000)).toBeCloseTo(log.at(400_000) - log.at(40_000), 6);
    expect(log.ticks).toContain(10_000);
  });
});
