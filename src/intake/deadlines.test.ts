import { describe, expect, it } from 'vitest';
import { deadlineFromText } from './deadlines.js';

// Monday 30 November 2026, 09:00 UTC.
const MON = '2026-11-30T09:00:00.000Z';
const end = (date: string): string => `${date}T23:59:59.999Z`;

describe('deadlineFromText', () => {
  it('reads deadlines set by the text, relative to the day it was written', () => {
    expect(deadlineFromText('can you send me the summary by 2pm today?', MON)).toBe(
      end('2026-11-30'),
    );
    expect(deadlineFromText('Needed for today’s release', MON)).toBe(end('2026-11-30'));
    expect(deadlineFromText('please reply by tomorrow', MON)).toBe(end('2026-12-01'));
    expect(deadlineFromText('fill in your capacity before Friday’s planning', MON)).toBe(
      end('2026-12-04'),
    );
    expect(deadlineFromText('feedback by Wednesday noon', MON)).toBe(end('2026-12-02'));
    // The same weekday as the day written: a week later.
    expect(deadlineFromText('due Monday', MON)).toBe(end('2026-12-07'));
    expect(deadlineFromText('Self-review due Dec 4', MON)).toBe(end('2026-12-04'));
    expect(deadlineFromText('collect yours by December 20.', MON)).toBe(end('2026-12-20'));
    expect(deadlineFromText('Need it for the Dec 8 review.', MON)).toBe(end('2026-12-08'));
    expect(deadlineFromText('need your test file by the 10th', MON)).toBe(end('2026-12-10'));
    // A January date written in December is next year's.
    expect(deadlineFromText('due Jan 4', '2026-12-20T10:00:00Z')).toBe(end('2027-01-04'));
    // The earliest of several.
    expect(deadlineFromText('go live on the 15th, test file by the 10th, due Dec 12', MON)).toBe(
      end('2026-12-10'),
    );
  });

  it('ignores dates that set no deadline, and deadlines already past when written', () => {
    expect(deadlineFromText('You are on call from today 10:00.', MON)).toBeUndefined();
    expect(deadlineFromText('Support has 14 tickets since Thursday', MON)).toBeUndefined();
    expect(deadlineFromText('This week: require(esm) unflagged', MON)).toBeUndefined();
    expect(deadlineFromText('Invitation: review @ Mon Nov 30, 2026 3pm', MON)).toBeUndefined();
    expect(deadlineFromText('this was due Nov 20', MON)).toBeUndefined();
    expect(deadlineFromText('a friend by monthly plan', MON)).toBeUndefined();
    expect(deadlineFromText('by today', 'not a date')).toBeUndefined();
  });
});
