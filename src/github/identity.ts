import type { Logger } from '../observability/index.js';
import type { GithubClient } from './client.js';

/** Who a commit is by: git's `user.name` and `user.email`. */
export interface CommitIdentity {
  name: string;
  email: string;
}

/** The author (and committer) of a commit Patchbay makes, and who it credits. */
export interface CommitAuthorship {
  author: CommitIdentity;
  /** Credited with a `Co-authored-by:` trailer each (the requester). */
  coAuthors: CommitIdentity[];
}

/**
 * The address GitHub attributes to an account whatever its email settings:
 * `<id>+<login>@users.noreply.github.com` (an App's bot account included).
 */
export const noreplyEmail = (id: number, login: string): string =>
  `${id}+${login}@users.noreply.github.com`;

/** `message` with a `Co-authored-by: Name <email>` trailer per co-author (GitHub's format). */
export function withCoAuthors(message: string, coAuthors: readonly CommitIdentity[]): string {
  if (coAuthors.length === 0) return message;
  const trailers = coAuthors.map((c) => `Co-authored-by: ${c.name} <${c.email}>`).join('\n');
  return `${message.trimEnd()}\n\n${trailers}`;
}

interface UserAnswer {
  login: string;
  id: number;
  name?: string | null;
}

/**
 * Who commits as the GitHub App: `<app-slug>[bot]` with its bot account's noreply address
 * (the slug from `GET /app`, the bot account's id from `GET /users/<slug>[bot]`), and the
 * GitHub users credited with a trailer. Both are asked once per process (a failure is not
 * remembered: the next commit asks again). Without an App there is no bot to commit as.
 */
export function createCommitIdentities(github: GithubClient, log: Logger) {
  const known = new Map<string, Promise<CommitIdentity>>();

  /** Asks once; a failed look-up is forgotten so a later call asks again. */
  function cached(key: string, ask: () => Promise<CommitIdentity>): Promise<CommitIdentity> {
    let found = known.get(key);
    if (!found) {
      found = ask();
      known.set(key, found);
      found.catch(() => known.delete(key));
    }
    return found;
  }

  const userOf = (repository: string, login: string): Promise<UserAnswer> =>
    github.rest<UserAnswer>(repository, 'GET', `/users/${encodeURIComponent(login)}`);

  /** The App's bot identity; undefined when Patchbay is not a GitHub App. */
  async function bot(repository: string): Promise<CommitIdentity | undefined> {
    if (!github.isApp) return undefined;
    return cached('app', async () => {
      const app = await github.appRest<{ slug: string }>('GET', '/app');
      const login = `${app.slug}[bot]`;
      const account = await userOf(repository, login);
      return { name: login, email: noreplyEmail(account.id, login) };
    });
  }

  /** A GitHub user as a co-author: their name (else login) and noreply address. */
  function user(repository: string, login: string): Promise<CommitIdentity> {
    return cached(`user:${login.toLowerCase()}`, async () => {
      const found = await userOf(repository, login);
      return {
        name: found.name?.trim() || found.login,
        email: noreplyEmail(found.id, found.login),
      };
    });
  }

  /**
   * The authorship of a commit on `repository` asked by `requester` (a GitHub login), or
   * undefined (commit as Patchbay) when there is no App or GitHub could not say: a commit is
   * never held up by this. A requester GitHub could not tell about is left out.
   */
  async function authorship(
    repository: string,
    requester?: string,
  ): Promise<CommitAuthorship | undefined> {
    let author: CommitIdentity | undefined;
    try {
      author = await bot(repository);
    } catch (err) {
      log.warn({ err, repository }, 'could not look up the GitHub App bot: committing as Patchbay');
      return undefined;
    }
    if (!author) return undefined;
    const coAuthors: CommitIdentity[] = [];
    if (requester && !requester.endsWith('[bot]')) {
      try {
        coAuthors.push(await user(repository, requester));
      } catch (err) {
        log.warn({ err, requester }, 'could not look up the requester on GitHub: no trailer');
      }
    }
    return { author, coAuthors };
  }

  return { bot, user, authorship };
}

export type CommitIdentities = ReturnType<typeof createCommitIdentities>;
