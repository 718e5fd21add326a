import cronParser from 'cron-parser';
import { PatchbayError } from '../contracts/index.js';
import { zoneOffsetMs } from './zone-time.js';

/**
 * Tick arithmetic for schedules: cron expressions (5 fields, or 6 with seconds first) read in
 * an IANA time zone, with cron-parser doing the calendar and daylight-saving work.
 *
 * cron-parser walks from its start date one day, hour, minute or second at a time, each step a
 * time-zone conversion: a yearly cron's next tick costs hundreds of steps (tens of ms), and its
 * `prev()` more. Both are computed here by a search on the wall clock instead (integer
 * arithmetic over the expanded fields, a handful of `Intl` offset look-ups) whenever the
 * instant and the tick both lie more than 3 h from a daylight-saving shift; cron-parser still
 * decides near shifts and for `L` and `#` expressions, so every result is cron-parser's (the
 * equivalence test in cron.test.ts compares them across shifts in several zones).
 */

/** One cron expression in one time zone, validated. */
export interface CronSpec {
  cron: string;
  timezone: string;
}

/**
 * Counts the walks cron-parser does (each `next()`/`prev()`): what the schedule clock's cost is
 * made of. Tests read it to prove the clock does not recompute every schedule on each pass.
 */
export interface CronCounter {
  computations: number;
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
 * Throws SCHEDULE_INVALID with the offending field unless the expression and zone are usable;
 * returns the first tick after `now` (the check computes it anyway).
 * @example assertCronSpec({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' })
 */
export function assertCronSpec(spec: CronSpec, now = Date.now(), counter?: CronCounter): number {
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
    return nextTick(spec, now, counter);
  } catch (err) {
    throw invalid('cron', `invalid cron expression: ${(err as Error).message}`);
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** More than any daylight-saving shift: a tick this close to one is left to cron-parser. */
const NEAR_SHIFT = 3 * HOUR;
/** How far the day search looks (a 29 February on a Monday can be 28 years away). */
const SEARCH_DAYS = 366 * 8;
/** cron-parser's own months (index 0 = January): a day field this long counts as `*`. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The fields of an expression for the wall-clock search (null: cron-parser only). */
interface Fields {
  months: boolean[];
  daysOfMonth: boolean[];
  daysOfWeek: boolean[];
  hours: readonly number[];
  minutes: readonly number[];
  seconds: readonly number[];
  domCount: number;
  dowWildcard: boolean;
}

const fieldCache = new Map<string, Fields | null>();

function mask(values: readonly unknown[], size: number): boolean[] {
  const m = new Array<boolean>(size).fill(false);
  for (const v of values) if (typeof v === 'number' && v < size) m[v] = true;
  return m;
}

/** Expressions with `L` or `#` keep cron-parser's own search (their day rules are special). */
function fieldsOf(cron: string): Fields | null {
  let f = fieldCache.get(cron);
  if (f !== undefined) return f;
  const p = cronParser.parseExpression(cron).fields;
  const special = cron.includes('#') || [...p.dayOfMonth, ...p.dayOfWeek].some((v) => v === 'L');
  f = special
    ? null
    : {
        months: mask(p.month, 13),
        daysOfMonth: mask(p.dayOfMonth, 32),
        daysOfWeek: mask(p.dayOfWeek, 8),
        hours: [...p.hour].sort((a, b) => a - b),
        minutes: [...p.minute].sort((a, b) => a - b),
        seconds: [...p.second].sort((a, b) => a - b),
        domCount: p.dayOfMonth.length,
        dowWildcard: p.dayOfWeek.length === 8,
      };
  if (fieldCache.size >= 10_000) fieldCache.clear();
  fieldCache.set(cron, f);
  return f;
}

/** cron-parser's rule for a day (the usual cron OR of day-of-month and day-of-week). */
function dayMatches(f: Fields, dayStart: number): boolean {
  const day = new Date(dayStart);
  if (!f.months[day.getUTCMonth() + 1]) return false;
  const dom = f.daysOfMonth[day.getUTCDate()] === true;
  const dow = f.daysOfWeek[day.getUTCDay()] === true;
  const domWildcard = f.domCount >= DAYS_IN_MONTH[day.getUTCMonth()]!;
  if (!dom && (!dow || f.dowWildcard)) return false;
  return !(domWildcard && !f.dowWildcard && !dow);
}

/** The first time of day (ms since midnight) after `from` that matches, if any. */
function firstTimeAfter(f: Fields, from: number): number | undefined {
  for (const h of f.hours) {
    if ((h + 1) * HOUR <= from + 1) continue;
    for (const m of f.minutes) {
      if (h * HOUR + (m + 1) * MINUTE <= from + 1) continue;
      for (const s of f.seconds) {
        const t = h * HOUR + m * MINUTE + s * SECOND;
        if (t > from) return t;
      }
    }
  }
  return undefined;
}

/** The last time of day at or before `upTo` that matches, if any. */
function lastTimeUpTo(f: Fields, upTo: number): number | undefined {
  for (let i = f.hours.length - 1; i >= 0; i--) {
    const h = f.hours[i]!;
    if (h * HOUR > upTo) continue;
    for (let j = f.minutes.length - 1; j >= 0; j--) {
      const m = f.minutes[j]!;
      if (h * HOUR + m * MINUTE > upTo) continue;
      for (let k = f.seconds.length - 1; k >= 0; k--) {
        const t = h * HOUR + m * MINUTE + f.seconds[k]! * SECOND;
        if (t <= upTo) return t;
      }
    }
  }
  return undefined;
}

const offsetAt = zoneOffsetMs;

/** True when the offset is the same from `NEAR_SHIFT` before `at` to `NEAR_SHIFT` after. */
function farFromShift(timezone: string, at: number, offset: number): boolean {
  return (
    offsetAt(timezone, at - NEAR_SHIFT) === offset && offsetAt(timezone, at + NEAR_SHIFT) === offset
  );
}

/**
 * The instant of a wall-clock time, when it exists once and lies away from any daylight-saving
 * shift (the wall clock runs evenly around it); undefined otherwise.
 */
function plainInstant(timezone: string, wall: number, guess: number): number | undefined {
  let at = wall - guess;
  let offset = offsetAt(timezone, at);
  if (offset !== guess) {
    at = wall - offset;
    offset = offsetAt(timezone, at);
  }
  if (wall - offset !== at) return undefined;
  return farFromShift(timezone, at, offset) ? at : undefined;
}

/**
 * The wall-clock search: the first matching wall time after `after` (or the last at or before
 * it, `backward`), when both ends lie away from daylight-saving shifts. Between two such
 * instants the wall clock only jumps inside shift windows, where no tick lies, so the first
 * matching wall time is the first tick. Undefined: ask cron-parser.
 */
function plainTick(spec: CronSpec, from: number, backward: boolean): number | undefined {
  const f = fieldsOf(spec.cron);
  if (!f) return undefined;
  const offset = offsetAt(spec.timezone, from);
  if (!farFromShift(spec.timezone, from, offset)) return undefined;
  const wall = from + offset;
  let day = Math.floor(wall / DAY) * DAY;
  for (let i = 0; i < SEARCH_DAYS; i++, day += backward ? -DAY : DAY) {
    if (!dayMatches(f, day)) continue;
    const time =
      i > 0
        ? backward
          ? lastTimeUpTo(f, DAY - 1)
          : firstTimeAfter(f, -1)
        : backward
          ? lastTimeUpTo(f, wall - day)
          : firstTimeAfter(f, wall - day);
    if (time !== undefined) return plainInstant(spec.timezone, day + time, offset);
  }
  return undefined;
}

function walk(spec: CronSpec, from: number) {
  return cronParser.parseExpression(spec.cron, { currentDate: new Date(from), tz: spec.timezone });
}

/** The first tick strictly after `after`. */
export function nextTick(spec: CronSpec, after: number, counter?: CronCounter): number {
  if (counter) counter.computations++;
  return plainTick(spec, after, false) ?? walk(spec, after).next().getTime();
}

/** The latest tick at or before `at`, or undefined when the expression never matched before. */
export function latestTick(spec: CronSpec, at: number, counter?: CronCounter): number | undefined {
  if (counter) counter.computations++;
  const plain = plainTick(spec, at, true);
  if (plain !== undefined) return plain;
  try {
    return walk(spec, at + 1)
      .prev()
      .getTime();
  } catch {
    return undefined;
  }
}

/** Ticks fired individually when they are at most this late; older ones collapse into one. */
export const MISFIRE_GRACE_MS = 10_000;

/** What is due now, and the first tick after those (when to look again). */
export interface TickPlan {
  due: number[];
  next: number;
}

/**
 * The ticks to fire now, those in (`after`, `now`], and the tick after them. `first` is
 * `nextTick(spec, after)` when the caller knows it already. See `dueTicks`.
 */
export function planTicks(
  spec: CronSpec,
  after: number,
  now: number,
  options: { first?: number; graceMs?: number; counter?: CronCounter } = {},
): TickPlan {
  const { counter, graceMs = MISFIRE_GRACE_MS } = options;
  const first = options.first ?? nextTick(spec, after, counter);
  if (first > now) return { due: [], next: first };
  const due: number[] = [];
  const from = Math.max(after, now - graceMs - 1);
  let t = from === after ? first : nextTick(spec, from, counter);
  // Bounded: a per-second cron has at most graceMs/1000 ticks in the window.
  while (t <= now && due.length < 1000) {
    due.push(t);
    t = nextTick(spec, t, counter);
  }
  if (due.length > 0) return { due, next: t };
  // Missed for longer than the grace: one catch-up tick, the latest.
  const latest = latestTick(spec, now, counter) ?? first;
  return { due: [latest], next: nextTick(spec, latest, counter) };
}

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
  return planTicks(spec, after, now, { graceMs }).due;
}
