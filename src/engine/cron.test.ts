import cronParser from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { isPatchbayError } from '../contracts/index.js';
import { assertCronSpec, dueTicks, latestTick, MISFIRE_GRACE_MS, nextTick } from './cron.js';

const t = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString();

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPatchbayError(err)
      ? `${err.code}:${(err.details as never as { fields: { path: string }[] }).fields[0]!.path}`
      : 'other';
  }
  return undefined;
}

describe('cron ticks', () => {
  it('accepts 5 and 6 fields and refuses other counts, bad fields and unknown zones', () => {
    expect(codeOf(() => assertCronSpec({ cron: '0 9 * * 1-5', timezone: 'UTC' }))).toBeUndefined();
    expect(
      codeOf(() => assertCronSpec({ cron: '*/5 * * * * *', timezone: 'Asia/Tokyo' })),
    ).toBeUndefined();
    expect(codeOf(() => assertCronSpec({ cron: '* * * *', timezone: 'UTC' }))).toBe(
      'SCHEDULE_INVALID:cron',
    );
    expect(codeOf(() => assertCronSpec({ cron: '* * * * * * *', timezone: 'UTC' }))).toBe(
      'SCHEDULE_INVALID:cron',
    );
    expect(codeOf(() => assertCronSpec({ cron: '61 * * * *', timezone: 'UTC' }))).toBe(
      'SCHEDULE_INVALID:cron',
    );
    expect(codeOf(() => assertCronSpec({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }))).toBe(
      'SCHEDULE_INVALID:timezone',
    );
  });

  it('reads the expression in its time zone', () => {
    const spec = { cron: '0 9 * * *', timezone: 'Europe/Berlin' };
    // Winter: 09:00 CET is 08:00 UTC; summer: 09:00 CEST is 07:00 UTC.
    expect(iso(nextTick(spec, t('2026-01-15T12:00:00Z')))).toBe('2026-01-16T08:00:00.000Z');
    expect(iso(nextTick(spec, t('2026-07-15T12:00:00Z')))).toBe('2026-07-16T07:00:00.000Z');
    // Strictly after: a tick exactly at `after` is not the next one.
    expect(iso(nextTick(spec, t('2026-01-16T08:00:00Z')))).toBe('2026-01-17T08:00:00.000Z');
    expect(iso(latestTick(spec, t('2026-01-16T08:00:00Z'))!)).toBe('2026-01-16T08:00:00.000Z');
  });

  it('fires a daily tick once per day across both daylight-saving changes', () => {
    const spec = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    const ticks = (from: string, n: number): string[] => {
      const out: string[] = [];
      let at = t(from);
      for (let i = 0; i < n; i++) out.push(iso((at = nextTick(spec, at))));
      return out;
    };
    // 2026-03-29: 02:30 does not exist (02:00 → 03:00); the day still gets exactly one tick.
    const spring = ticks('2026-03-27T12:00:00Z', 4);
    expect(spring.map((s) => s.slice(0, 10))).toEqual([
      '2026-03-28',
      '2026-03-29',
      '2026-03-30',
      '2026-03-31',
    ]);
    expect(spring[0]).toBe('2026-03-28T01:30:00.000Z'); // 02:30 CET
    expect(spring[2]).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
    // 2026-10-25: 02:30 happens twice (CEST, then CET); it fires once.
    const autumn = ticks('2026-10-23T12:00:00Z', 4);
    expect(autumn.map((s) => s.slice(0, 10))).toEqual([
      '2026-10-24',
      '2026-10-25',
      '2026-10-26',
      '2026-10-27',
    ]);
    expect(autumn[3]).toBe('2026-10-27T01:30:00.000Z'); // 02:30 CET
  });

  it('fires each tick missed by less than the grace, but only one after a long outage', () => {
    const spec = { cron: '*/1 * * * * *', timezone: 'UTC' };
    const now = t('2026-01-01T00:01:00.200Z');
    // Late by under the grace: every missed second fires.
    expect(dueTicks(spec, now - 3200, now).map(iso)).toEqual([
      '2026-01-01T00:00:58.000Z',
      '2026-01-01T00:00:59.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
    // Nothing due: the cursor is at the latest tick.
    expect(dueTicks(spec, t('2026-01-01T00:01:00Z'), now)).toEqual([]);
    // An hourly schedule whose servers were down for a day: one catch-up tick, the latest.
    const hourly = { cron: '0 * * * *', timezone: 'UTC' };
    expect(dueTicks(hourly, t('2026-01-01T00:00:00Z'), t('2026-01-02T05:30:00Z')).map(iso)).toEqual(
      ['2026-01-02T05:00:00.000Z'],
    );
    // A per-second schedule down for an hour fires only the ticks within the grace.
    const burst = dueTicks(spec, now - 3_600_000, now);
    expect(burst.length).toBe(MISFIRE_GRACE_MS / 1000);
    expect(iso(burst.at(-1)!)).toBe('2026-01-01T00:01:00.000Z');
  });
});

describe('cron ticks agree with cron-parser walking on its own', () => {
  const specs = [
    '*/10 * * * * *',
    '7 * * * *',
    '30 2 * * *',
    '0 9 * * 1-5',
    '0 9 1,15 * 5',
    '15 10 31 * *',
    '0 12 29 2 *',
    '0 0 L * *',
    '0 8 * * 5#2',
  ];
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
  // Next to a daylight-saving change (cron-parser decides there), away from any (the wall-clock
  // search decides), a leap day.
  const starts = [
    '2026-03-29T00:10:00Z',
    '2026-11-01T05:30:00Z',
    '2026-07-15T10:20:30.500Z',
    '2028-02-28T11:00:00Z',
  ].map(t);

  it('gives the same next ticks and latest tick for every spec, zone and start', () => {
    let compared = 0;
    for (const cron of specs) {
      for (const timezone of zones) {
        const spec = { cron, timezone };
        for (const start of starts) {
          const it = cronParser.parseExpression(cron, {
            currentDate: new Date(start),
            tz: timezone,
          });
          let at = start;
          for (let i = 0; i < 3; i++) {
            at = nextTick(spec, at);
            expect(iso(at), `${cron} ${timezone} after ${iso(start)} #${i}`).toBe(
              iso(it.next().getTime()),
            );
            compared++;
          }
          const back = cronParser.parseExpression(cron, {
            currentDate: new Date(start + 1),
            tz: timezone,
          });
          expect(iso(latestTick(spec, start)!), `${cron} ${timezone} latest ${iso(start)}`).toBe(
            iso(back.prev().getTime()),
          );
        }
      }
    }
    expect(compared).toBe(specs.length * zones.length * starts.length * 3);
  }, 120_000);
});
