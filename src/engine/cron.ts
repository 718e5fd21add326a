import cronParser from 'cron-parser';
import { PatchbayError } from '../contracts/index.js';

/**
 * Tick arithmetic for schedules: cron expressions (5 fields, or 6 with seconds first) read in
 * an IANA time zone, with cron-parser doing the calendar and daylight-saving work.
 */

/** One cron expression in one time zone, validated. */
export interface CronSpec {
  cron: string;
  timezone: string;
}

function invalid(path: string, message: string): PatchbayError {
  return new PatchbayError('SCHEDULE_INVALID', `${path}: ${message}`, {
    fields: [{ location: 'body', path, message }],
  });
}

/** Throws SCHEDULE_INVALID unless `timezone` is a time zone this runtime knows (IANA names). */
export function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw invalid(
      'timezone',
      `unknown time zone ${JSON.stringify(timezone)} (use an IANA name like Europe/Berlin)`,
    );
  }
}

/**
 * Throws SCHEDULE_INVALID with the offending field unless the expression and zone are usable.
 * @example assertCronSpec({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' })
 */
export function assertCronSpec(spec: CronSpec): void {
  assertTimezone(spec.timezone);
  const fields = spec.cron.trim().split(/\s+/);
  // cron-parser quietly fills in missing fields; a 4-field expression is a typo, not a schedule.
  if (fields.length !== 5 && fields.length !== 6) {
    throw invalid(
      'cron',
      `expected 5 fields (minute hour day month weekday) or 6 with seconds first, got ${fields.length}`,
    );
  }
  try {
    cronParser.parseExpression(spec.cron, { tz: spec.timezone }).next();
  } catch (err) {
    throw invalid('cron', `invalid cron expression: ${(err as Error).message}`);
  }
}

/** The first tick strictly after `after`. */
export function nextTick(spec: CronSpec, after: number): number {
  const it = cronParser.parseExpression(spec.cron, {
    currentDate: new Date(after),
    tz: spec.timezone,
  });
  return it.next().getTime();
}

/** The latest tick at or before `at`, or undefined when the expression never matched before. */
export function latestTick(spec: CronSpec, at: number): number | undefined {
  const it = cronParser.parseExpression(spec.cron, {
    currentDate: new Date(at + 1),
    tz: spec.timezone,
  });
  try {
    return it.prev().getTime();
  } catch {
    return undefined;
  }
}

/** Ticks fired individually when they are at most this late; older ones collapse into one. */
export const MISFIRE_GRACE_MS = 10_000;

/**
 * The ticks to fire now: those in (`after`, `now`]. A tick missed by up to `graceMs` (a busy
 * event loop, a poll that came late) still fires on its own; when ticks were missed for longer
 * (every server was down) only the latest one fires, once, as a catch-up — never a storm.
 */
export function dueTicks(
  spec: CronSpec,
  after: number,
  now: number,
  graceMs = MISFIRE_GRACE_MS,
): number[] {
  const latest = latestTick(spec, now);
  if (latest === undefined || latest <= after) return [];
  const due: number[] = [];
  let t = nextTick(spec, Math.max(after, now - graceMs - 1));
  // Bounded: a per-second cron has at most graceMs/1000 ticks in the window.
  while (t <= now && due.length < 1000) {
    due.push(t);
    t = nextTick(spec, t);
  }
  return due.length > 0 ? due : [latest];
}
