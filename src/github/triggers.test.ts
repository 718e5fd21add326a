import { describe, expect, it } from 'vitest';
import { decideTrigger, mentions, requestOf, runIdOfBranch } from './triggers.js';

const settings = { phrase: '@patchbay', labels: ['patchbay'] };

describe('the trigger phrase', () => {
  it('is matched as a word', () => {
    expect(mentions('@patchbay fix it', '@patchbay')).toBe(true);
    expect(mentions('hey @Patchbay, fix it', '@patchbay')).toBe(true);
    expect(mentions('(@patchbay)', '@patchbay')).toBe(true);
    expect(mentions('@patchbays fix it', '@patchbay')).toBe(false);
    expect(mentions('me@patchbay.dev', '@patchbay')).toBe(false);
    expect(mentions('@patchbay-bot', '@patchbay')).toBe(false);
  });

  it('leaves what follows it as the request', () => {
    expect(requestOf('Hey @patchbay: fix the test', '@patchbay')).toBe('fix the test');
    expect(requestOf('fix the test, @patchbay', '@patchbay')).toBe('fix the test,');
  });
});

describe('decideTrigger', () => {
  const repository = { full_name: 'o/r' };
  const sender = { login: 'alice', type: 'User' };
  it('starts a run for an issue labelled with a trigger label, not for another label', () => {
    const issue = { number: 3, title: 'Fix', body: 'the build', labels: [] };
    const labelled = { action: 'labeled', label: { name: 'patchbay' }, issue, repository, sender };
    expect(decideTrigger('issues', labelled, settings)).toMatchObject({
      kind: 'run',
      number: 3,
      prompt: 'Fix\n\nthe build',
    });
    const other = { ...labelled, label: { name: 'bug' } };
    expect(decideTrigger('issues', other, settings).kind).toBe('ignore');
  });

  it('ignores bots, so its own comments never trigger it', () => {
    const p = {
      action: 'created',
      comment: { body: '@patchbay go' },
      issue: { number: 1 },
      repository,
      sender: { login: 'patchbay[bot]', type: 'Bot' },
    };
    expect(decideTrigger('issue_comment', p, settings).kind).toBe('ignore');
  });

  it('takes a review with changes requested as a follow-up, not an approval', () => {
    const review = (state: string) => ({
      action: 'submitted',
      review: { body: 'rename the helper', state },
      pull_request: { number: 5, head: { ref: 'patchbay/x-run_01m98eah0j3wbnccd8qx642sqz' } },
      repository,
      sender,
    });
    expect(
      decideTrigger('pull_request_review', review('changes_requested'), settings),
    ).toMatchObject({ kind: 'run', origin: 'review', number: 5, prompt: 'rename the helper' });
    expect(decideTrigger('pull_request_review', review('approved'), settings).kind).toBe('ignore');
  });

  it('recognises the run of a Patchbay branch', () => {
    expect(runIdOfBranch('patchbay/fix-it-run_01m98eah0j3wbnccd8qx642sqz')).toBe(
      'run_01M98EAH0J3WBNCCD8QX642SQZ',
    );
    expect(runIdOfBranch('feature/x')).toBeUndefined();
  });
});
