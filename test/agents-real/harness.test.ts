/** The suite's own pieces that decide which script answers a request, and what a timeout says. */
import { describe, expect, it } from 'vitest';
import { CaseScripts, caseOf, caseTag, transcript } from './harness.js';

describe('case marks', () => {
  it('the newest user text that carries a mark names the case', () => {
    const a = `Remember PAPAYA. ${caseTag('resume-1')}`;
    const b = `Which word? ${caseTag('resume-2')}`;
    expect(caseOf([a, 'model-ish noise', b])).toBe('resume-2');
    // A tool result after the prompt carries no mark: the prompt's case still answers.
    expect(caseOf([a, b, 'File written.'])).toBe('resume-2');
    expect(caseOf([`hello ${caseTag('400 prompt too long')}`])).toBe('400 prompt too long');
    expect(caseOf(['no mark here'])).toBeUndefined();
  });

  it('each case consumes only its own script', () => {
    const scripts = new CaseScripts<string>();
    scripts.add('401', ['error 401']);
    scripts.add('429', ['error 429']);
    // The 401 run never asks: the 429 run still gets its own answer.
    expect(scripts.next('429')).toBe('error 429');
    expect(scripts.next(undefined)).toBeUndefined();
    expect(scripts.next('unknown')).toBeUndefined();
    expect([scripts.pending('401'), scripts.pending('429'), scripts.pending()]).toEqual([1, 0, 1]);
  });
});

describe('transcript', () => {
  it('shows what the CLI printed, and says so when it printed nothing', () => {
    const ts = '2026-01-01T00:00:00.000Z';
    const quiet = transcript([
      { seq: 1, type: 'status', ts, data: { status: 'queued' } },
      { seq: 2, type: 'status', ts, data: { status: 'running', pid: 7 } },
    ]);
    expect(quiet).toContain('events (2, 0 of output)');
    expect(quiet).toContain('"pid":7');
    const loud = transcript([
      {
        seq: 3,
        type: 'output',
        ts,
        data: { stream: 'stderr', text: 'Ripgrep is not available.\n' },
      },
    ]);
    expect(loud).toContain('#3 2026-01-01T00:00:00.000Z output stderr: Ripgrep is not available.');
    const long = transcript(
      Array.from({ length: 500 }, (_, i) => ({
        seq: i,
        type: 'output',
        ts,
        data: { stream: 'stdout', text: `line ${i}` },
      })),
      2000,
    );
    expect(long.length).toBeLessThan(2100);
    expect(long).toContain('line 499'); // the end, where a stuck CLI stopped, is kept
  });
});
