import { describe, expect, it } from 'vitest';
import { isPatchbayError } from '../../contracts/index.js';
import { assertRunTemplate, parseTemplate, renderRunTemplate, renderTemplate } from './template.js';

const context = {
  payload: {
    issue: { title: 'Crash on start', number: 7, labels: ['bug', 'p1'], closed: false },
    'odd-key': 'dash',
    commits: [{ id: 'abc' }],
    nothing: null,
  },
  webhook: { id: 'msg_1', timestamp: 1700000000 },
  trigger: { id: 'trg_1', name: 'issues' },
};
const render = (text: string) => renderTemplate(parseTemplate(text, 'prompt'), context);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPatchbayError(err) ? err.code : String(err);
  }
  return undefined;
}

describe('trigger templates', () => {
  it('fills placeholders from the payload and the delivery', () => {
    expect(render('Fix: {{payload.issue.title}} (#{{ payload.issue.number }})')).toBe(
      'Fix: Crash on start (#7)',
    );
    expect(render('{{payload.commits.0.id}} {{payload.odd-key}} {{payload.issue.closed}}')).toBe(
      'abc dash false',
    );
    expect(render('{{payload.issue.labels}}')).toBe('["bug","p1"]');
    expect(render('[{{payload.missing.deep}}][{{payload.nothing}}]')).toBe('[][]');
    expect(render('{{webhook.id}} {{trigger.name}}')).toBe('msg_1 issues');
    expect(render('no placeholders')).toBe('no placeholders');
  });

  it('reads own properties only', () => {
    expect(render('[{{payload.issue.constructor}}][{{payload.__proto__}}]')).toBe('[][]');
    expect(render('[{{payload.issue.title.length}}]')).toBe('[]');
  });

  it('refuses what is not a placeholder, and placeholders outside the mapped fields', () => {
    expect(codeOf(() => parseTemplate('{{payload.a', 'prompt'))).toBe('TRIGGER_TEMPLATE_INVALID');
    expect(codeOf(() => parseTemplate('{{process.env.HOME}}', 'prompt'))).toBe(
      'TRIGGER_TEMPLATE_INVALID',
    );
    expect(codeOf(() => parseTemplate('{{payload.a + 1}}', 'prompt'))).toBe(
      'TRIGGER_TEMPLATE_INVALID',
    );
    expect(codeOf(() => assertRunTemplate({ command: ['echo', '{{payload.a}}'] }))).toBe(
      'TRIGGER_TEMPLATE_INVALID',
    );
    expect(
      codeOf(() =>
        assertRunTemplate({ prompt: '{{payload.a}}', env: { A: '{{payload.b}}' }, ref: 'main' }),
      ),
    ).toBeUndefined();
  });

  it('renders prompt, model, ref and env values and leaves the rest as written', () => {
    const run = renderRunTemplate(
      {
        agent: 'shell',
        command: ['sh', '-c', 'echo "$TITLE"'],
        env: { TITLE: '{{payload.issue.title}}' },
        prompt: 'Fix: {{payload.issue.title}}',
        timeoutMs: 1000,
      },
      context,
    );
    expect(run).toEqual({
      agent: 'shell',
      command: ['sh', '-c', 'echo "$TITLE"'],
      env: { TITLE: 'Crash on start' },
      prompt: 'Fix: Crash on start',
      timeoutMs: 1000,
    });
  });
});
