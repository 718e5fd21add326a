import { PatchbayError } from '../contracts/index.js';
import type { ConnectorKind, SourceItem } from './connectors/types.js';
import type { InboxContext } from './context.js';
import { applySync } from './ingest.js';

/**
 * Demo data for `POST /v1/dev/seed` (off unless PATCHBAY_INBOX_DEV_SEED): a user's connectors
 * in several states and a small week of work across the four sources, with a duplicate pair
 * (a Jira issue and the email about it), a reply chain and issue links, due dates spread over
 * today, this week and this month. Tokens are placeholders that open nothing.
 */
export async function seedDemo(ctx: InboxContext): Promise<{ tasks: number; connectors: number }> {
  const now = ctx.now().getTime();
  const at = (hours: number): string => new Date(now + hours * 3_600_000).toISOString();
  const me = { role: 'to' as const, email: 'dev@example.com', isUser: true };
  const item = (
    kind: ConnectorKind,
    ref: string,
    fields: Partial<SourceItem> & { title: string; snippet: string },
  ): SourceItem => ({
    kind,
    ref,
    people: [],
    labels: [],
    identifiers: {},
    mentions: [],
    createdAt: at(-48),
    updatedAt: at(-6),
    ...fields,
  });
  const batches: Record<ConnectorKind, SourceItem[]> = {
    jira: [
      item('jira', '10042', {
        url: 'https://acme.atlassian.net/browse/PAY-142',
        title: 'PAY-142 Checkout fails for saved cards after 3DS',
        snippet:
          'Customers with saved cards get a 500 after the 3-D Secure challenge. Started with release 4.12.',
        priority: 'highest',
        dueAt: at(10),
        identifiers: { issueKey: 'PAY-142', urls: ['https://acme.atlassian.net/browse/PAY-142'] },
        people: [
          { role: 'reporter', name: 'Dana Ruiz', email: 'dana@acme.test' },
          { role: 'assignee', email: 'dev@example.com', isUser: true },
        ],
        waitingOnUser: true,
        labels: ['payments', 'incident'],
      }),
      item('jira', '10043', {
        url: 'https://acme.atlassian.net/browse/PAY-150',
        title: 'PAY-150 Add idempotency keys to refund endpoint',
        snippet:
          'Refunds can be double-submitted on retry. Add an Idempotency-Key header; blocked by PAY-142 rollout.',
        priority: 'high',
        dueAt: at(24 * 4),
        identifiers: { issueKey: 'PAY-150' },
        mentions: ['PAY-142'],
        people: [{ role: 'reporter', name: 'Dana Ruiz', email: 'dana@acme.test' }],
        labels: ['payments'],
      }),
      item('jira', '10051', {
        url: 'https://acme.atlassian.net/browse/OPS-77',
        title: 'OPS-77 Rotate staging database credentials',
        snippet: 'Quarterly rotation of the staging Postgres password; update the vault entry.',
        priority: 'medium',
        dueAt: at(24 * 20),
        identifiers: { issueKey: 'OPS-77' },
        people: [{ role: 'reporter', name: 'Lee Park', email: 'lee@acme.test' }],
      }),
    ],
    gmail: [
      item('gmail', '18c1a', {
        url: 'https://mail.google.com/mail/u/0/#inbox/18c1a',
        title: 'Re: PAY-142 checkout 500s — can you look today?',
        snippet:
          'Hi, support has 40 tickets about checkout failures with saved cards since this morning. Could you take a look today?',
        identifiers: { threadId: 't-checkout', messageId: '<c1@acme.test>', issueKey: 'PAY-142' },
        people: [{ role: 'from', name: 'Dana Ruiz', email: 'dana@acme.test' }, me],
        asksUser: true,
        waitingOnUser: true,
        updatedAt: at(-2),
      }),
      item('gmail', '18c2b', {
        url: 'https://mail.google.com/mail/u/0/#inbox/18c2b',
        title: 'Quarterly planning doc — comments by Friday',
        snippet: 'Please add your team’s estimates to the planning doc before Friday’s review.',
        dueAt: at(24 * 3),
        identifiers: {
          threadId: 't-planning',
          messageId: '<p1@acme.test>',
          urls: ['https://docs.google.com/document/d/plan-q3'],
        },
        people: [{ role: 'from', name: 'Sam Ortiz', email: 'sam@acme.test' }, me],
        asksUser: true,
      }),
      item('gmail', '18c3c', {
        url: 'https://mail.google.com/mail/u/0/#inbox/18c3c',
        title: 'Lunch & learn: observability on Thursday',
        snippet: 'Join us for a talk on tracing in production. No RSVP needed.',
        identifiers: { threadId: 't-lunch', messageId: '<l1@acme.test>' },
        people: [{ role: 'from', name: 'Events', email: 'events@acme.test' }, me],
        updatedAt: at(-30),
      }),
    ],
    github: [
      item('github', 'PR_kwDOA1', {
        url: 'https://github.com/acme/api/pull/812',
        title: 'Review requested: Retry webhook deliveries with jitter (#812)',
        snippet: 'Adds exponential backoff with full jitter to webhook retries. Fixes #799.',
        identifiers: { issueKey: 'ACME/API#812', urls: ['https://github.com/acme/api/pull/812'] },
        mentions: ['ACME/API#799'],
        people: [
          { role: 'author', handle: 'mkim' },
          { role: 'reviewer', handle: 'dev', isUser: true },
        ],
        waitingOnUser: true,
        labels: ['review'],
        updatedAt: at(-5),
      }),
      item('github', 'I_kwDOA2', {
        url: 'https://github.com/acme/api/issues/799',
        title: 'Webhook retries hammer partners during outages (#799)',
        snippet: 'When a partner endpoint is down we retry every second for an hour.',
        identifiers: { issueKey: 'ACME/API#799', urls: ['https://github.com/acme/api/issues/799'] },
        people: [{ role: 'author', handle: 'partner-eng' }],
        labels: ['bug'],
        createdAt: at(-24 * 9),
        updatedAt: at(-24 * 2),
      }),
      item('github', 'I_kwDOA3', {
        url: 'https://github.com/acme/api/issues/820',
        title: 'Upgrade to Node 22 in CI',
        snippet: 'Node 20 reaches end of life; move the CI matrix to 22.',
        identifiers: { issueKey: 'ACME/API#820' },
        people: [{ role: 'author', handle: 'lee' }],
        labels: ['chore'],
        dueAt: at(24 * 25),
      }),
    ],
    drive: [
      item('drive', 'cmt-91', {
        url: 'https://docs.google.com/document/d/plan-q3/edit?disco=cmt-91',
        title: 'Comment on “Q3 planning”: @dev can you size the payments work?',
        snippet: 'Sam Ortiz: @dev can you size the payments work in section 3?',
        identifiers: { urls: ['https://docs.google.com/document/d/plan-q3'] },
        people: [
          { role: 'author', name: 'Sam Ortiz', email: 'sam@acme.test' },
          { role: 'mentioned', email: 'dev@example.com', isUser: true },
        ],
        asksUser: true,
        dueAt: at(24 * 3),
      }),
      item('drive', 'cmt-92', {
        url: 'https://docs.google.com/document/d/incident-412/edit?disco=cmt-92',
        title: 'Comment on “Incident review 4.12”: add the timeline',
        snippet: 'Lee Park: please add the checkout incident timeline before the review.',
        mentions: ['PAY-142'],
        people: [{ role: 'author', name: 'Lee Park', email: 'lee@acme.test' }],
        asksUser: true,
        dueAt: at(24 * 6),
      }),
    ],
  };
  let tasks = 0;
  for (const [kind, items] of Object.entries(batches) as Array<[ConnectorKind, SourceItem[]]>) {
    const report = await applySync(ctx, kind, {
      items,
      removedRefs: [],
      cursor: 'seed',
      more: false,
    });
    tasks += report.created;
  }
  let connectors = 0;
  const states: Array<[ConnectorKind, 'connected' | 'error', string | null]> = [
    ['gmail', 'connected', null],
    ['github', 'connected', null],
    ['jira', 'error', `rate limited until ${at(0.5)}`],
  ];
  for (const [kind, status, message] of states) {
    try {
      await ctx.store.connectors.saveCredentials(
        kind,
        { accessToken: `demo-${kind}-token` },
        { status, message, cursor: 'seed', nextSyncAt: at(1) },
      );
      connectors++;
    } catch (err) {
      // Without a key the demo has tasks but no connected connectors.
      if (!(err instanceof PatchbayError && err.code === 'INBOX_KEYRING_MISSING')) throw err;
    }
  }
  return { tasks, connectors };
}
