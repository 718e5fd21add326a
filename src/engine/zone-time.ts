// Wall clocks of IANA time zones, for schedules (cron ticks) and budgets (the budget day).

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `timezone` at `at` (whole seconds), as ms of a UTC calendar. */
export function wallClock(timezone: string, at: number): number {
  let format = formats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timezone, format);
  }
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(at)) p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

/** The zone's offset from UTC at `at`, in ms (positive east of Greenwich). */
export const zoneOffsetMs = (timezone: string, at: number): number =>
  wallClock(timezone, at) - Math.floor(at / 1000) * 1000;
