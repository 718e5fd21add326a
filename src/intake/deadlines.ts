/**
 * A deadline written in an item's text, for items whose source has no due date field (mail,
 * comments): "by 2pm today", "before Friday's planning", "due Dec 20", "by the 10th". Only phrases that set a deadline count (`by`, `before`, `until`, `due`,
 * `needed for`, `for the … review`), so "on call from today", "since Thursday" or a
 * newsletter's "this week" set nothing.
 * Relative words are read from the day the item was written; the deadline is the end of
 * that day (UTC). Deterministic: the same text and date give the same deadline.
 */

const DAY = 86_400_000;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const LEAD = String.raw`\b(?:by|before|until|till|due|needed for|for)\s+(?:the\s+|this\s+|next\s+)?`;
const WEEKDAY = String.raw`(sun|mon|tue|tues|wed|thu|thur|thurs|fri|sat)(?:day|nesday|sday|urday|rsday)?`;
const MONTH = String.raw`(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?`;

const endOfDay = (t: number): number => Math.floor(t / DAY) * DAY + DAY - 1;

/** The end of the next `weekday` (0 = Sunday) after the day of `from` (a week later on that day). */
function nextWeekday(from: number, weekday: number): number {
  const today = new Date(from).getUTCDay();
  const ahead = (weekday - today + 7) % 7 || 7;
  return endOfDay(from + ahead * DAY);
}

function weekdayIndex(word: string): number {
  return WEEKDAYS.findIndex((d) => d.startsWith(word.toLowerCase().slice(0, 3)));
}

/** The deadline the text sets, as an ISO time, or undefined. `writtenAt` is an ISO time. */
export function deadlineFromText(text: string, writtenAt: string): string | undefined {
  const from = Date.parse(writtenAt);
  if (!Number.isFinite(from)) return undefined;
  const t = text.toLowerCase();
  const found: number[] = [];
  const each = (pattern: string, fn: (m: RegExpExecArray) => number | undefined): void => {
    for (const m of t.matchAll(new RegExp(pattern, 'g'))) {
      const at = fn(m);
      // A date already past when the text was written is not a deadline set by it.
      if (at !== undefined && at > endOfDay(from) - DAY) found.push(at);
    }
  };
  // "by 2pm today", "needed for today's release", "by end of day", "by tomorrow"
  each(String.raw`${LEAD}(?:[\w:]+\s+)?(today|tonight|eod|end of (?:the )?day|tomorrow)\b`, (m) =>
    endOfDay(from + (m[1] === 'tomorrow' ? DAY : 0)),
  );
  // "before Friday's planning", "by Wednesday noon", "due Thursday", "due this Friday"
  each(`${LEAD}${WEEKDAY}\\b`, (m) => nextWeekday(from, weekdayIndex(m[1]!)));
  // "due Dec 4", "by December 20", "for the Dec 8 review", "before December 31"
  each(`${LEAD}${MONTH}\\s+(\\d{1,2})\\b`, (m) => {
    const month = MONTHS.indexOf(m[1]!.slice(0, 3));
    const day = Number(m[2]);
    if (month < 0 || day < 1 || day > 31) return undefined;
    const year = new Date(from).getUTCFullYear();
    let at = Date.UTC(year, month, day);
    if (at < from - 180 * DAY) at = Date.UTC(year + 1, month, day);
    return endOfDay(at);
  });
  // "by the 10th"
  each(String.raw`${LEAD}(\d{1,2})(?:st|nd|rd|th)\b`, (m) => {
    const day = Number(m[1]);
    if (day < 1 || day > 31) return undefined;
    const d = new Date(from);
    let at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), day);
    if (at < endOfDay(from) - DAY) at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, day);
    return endOfDay(at);
  });
  if (found.length === 0) return undefined;
  return new Date(Math.min(...found)).toISOString();
}
