/**
 * What a GitHub webhook event asks of Patchbay, decided from the payload alone: nothing, a
 * repository to register, or a run (new, or a follow-up on a Patchbay pull request's branch).
 * Permission checks and the run itself are the caller's.
 */

export interface TriggerSettings {
  phrase: string;
  labels: readonly string[];
}

export type TriggerDecision =
  | { kind: 'ignore'; reason: string }
  | {
      kind: 'register';
      installationId: number;
      repositories: { fullName: string; id: number }[];
    }
  | {
      kind: 'run';
      repository: string;
      sender: string;
      /** Issue or pull request number the run reports to. */
      number: number;
      prompt: string;
      /** A review comment to answer in its thread. */
      reviewCommentId?: number;
      /** The run's origin: an issue, a comment, a review, a review comment. */
      origin: 'issue' | 'comment' | 'review' | 'review_comment';
      /** Set when the event is on a pull request: a follow-up if it is a Patchbay one. */
      pullRequest?: { number: number; headRef?: string };
      url?: string;
    };

/** Whether `text` contains `phrase` as a word (`@patchbay`, not `@patchbays` or `x@patchbay`). */
export function mentions(text: string, phrase: string): boolean {
  const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w@-])${escaped}(?![\\w-])`, 'i').test(text);
}

/**
 * The request in a comment: what follows the phrase (`Hey @patchbay: fix the test` → `fix the
 * test`), or, when nothing follows it, the comment without the phrase.
 */
export function requestOf(text: string, phrase: string): string {
  const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(^|[^\\w@-])${escaped}(?![\\w-])[,:]?\\s*`, 'i');
  const m = pattern.exec(text);
  if (!m) return text.trim();
  const after = text.slice(m.index + m[0].length).trim();
  return after || text.replace(new RegExp(pattern.source, 'gi'), '$1').trim();
}

// Webhook payloads are JSON read field by field with defaults: typing each event's shape here
// would duplicate @octokit/webhooks-types for a handful of fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = Record<string, any>;

const ignore = (reason: string): TriggerDecision => ({ kind: 'ignore', reason });

const isBot = (p: Payload): boolean =>
  p.sender?.type === 'Bot' || String(p.sender?.login ?? '').endsWith('[bot]');

/** Decides what `event` (X-GitHub-Event) with `payload` asks for. */
export function decideTrigger(
  event: string,
  body: Record<string, unknown>,
  settings: TriggerSettings,
): TriggerDecision {
  const payload = body as Payload;
  const repository = String(payload.repository?.full_name ?? '');
  const sender = String(payload.sender?.login ?? '');
  switch (event) {
    case 'installation':
    case 'installation_repositories': {
      const id = Number(payload.installation?.id);
      const list: Payload[] =
        event === 'installation'
          ? ['created', 'new_permissions_accepted', 'unsuspend'].includes(payload.action)
            ? (payload.repositories ?? [])
            : []
          : (payload.repositories_added ?? []);
      if (!Number.isFinite(id) || list.length === 0) return ignore(`${event}.${payload.action}`);
      return {
        kind: 'register',
        installationId: id,
        repositories: list.map((r) => ({ fullName: String(r.full_name), id: Number(r.id) })),
      };
    }
    case 'issues': {
      if (isBot(payload) || !repository) return ignore('issue by a bot');
      const issue = payload.issue ?? {};
      const labelled =
        payload.action === 'labeled'
          ? settings.labels.includes(String(payload.label?.name ?? ''))
          : payload.action === 'opened' &&
            (issue.labels ?? []).some((l: Payload) => settings.labels.includes(String(l.name)));
      if (!labelled) return ignore(`issues.${payload.action} without a trigger label`);
      return {
        kind: 'run',
        repository,
        sender,
        number: Number(issue.number),
        prompt: `${issue.title ?? ''}\n\n${issue.body ?? ''}`.trim(),
        origin: 'issue',
        url: issue.html_url,
      };
    }
    case 'issue_comment': {
      if (payload.action !== 'created' || isBot(payload)) return ignore('not a new human comment');
      const body = String(payload.comment?.body ?? '');
      if (!mentions(body, settings.phrase)) return ignore('no trigger phrase');
      const issue = payload.issue ?? {};
      const onPull = issue.pull_request !== undefined && issue.pull_request !== null;
      const asked = requestOf(body, settings.phrase);
      return {
        kind: 'run',
        repository,
        sender,
        number: Number(issue.number),
        prompt: onPull
          ? asked
          : `${asked}\n\n---\nIssue #${issue.number}: ${issue.title ?? ''}\n\n${issue.body ?? ''}`.trim(),
        origin: 'comment',
        ...(onPull && { pullRequest: { number: Number(issue.number) } }),
        url: payload.comment?.html_url,
      };
    }
    case 'pull_request_review': {
      if (payload.action !== 'submitted' || isBot(payload)) return ignore('not a submitted review');
      const body = String(payload.review?.body ?? '').trim();
      if (!body) return ignore('a review without a body');
      // An approval is not a request for more work.
      if (String(payload.review?.state ?? '').toLowerCase() === 'approved') {
        return ignore('an approving review');
      }
      const pr = payload.pull_request ?? {};
      return {
        kind: 'run',
        repository,
        sender,
        number: Number(pr.number),
        prompt: requestOf(body, settings.phrase),
        origin: 'review',
        pullRequest: { number: Number(pr.number), headRef: pr.head?.ref },
        url: payload.review?.html_url,
      };
    }
    case 'pull_request_review_comment': {
      if (payload.action !== 'created' || isBot(payload)) return ignore('not a new human comment');
      const pr = payload.pull_request ?? {};
      const c = payload.comment ?? {};
      const where = c.path ? `\n\n(on ${c.path}${c.line ? ` line ${c.line}` : ''})` : '';
      return {
        kind: 'run',
        repository,
        sender,
        number: Number(pr.number),
        prompt: `${requestOf(String(c.body ?? ''), settings.phrase)}${where}`,
        origin: 'review_comment',
        reviewCommentId: Number(c.id),
        pullRequest: { number: Number(pr.number), headRef: pr.head?.ref },
        url: c.html_url,
      };
    }
    default:
      return ignore(`event ${event} is not handled`);
  }
}

/** The first run of a Patchbay branch (`patchbay/<slug>-run_<ulid>`), if it is one. */
export function runIdOfBranch(branch: string | undefined): string | undefined {
  const m = /^patchbay\/(?:.*-)?(run_[0-9a-z]{26})$/i.exec(branch ?? '');
  return m ? `run_${m[1]!.slice(4).toUpperCase()}` : undefined;
}
