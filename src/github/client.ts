import { readFileSync } from 'node:fs';
import type { createAppAuth } from '@octokit/auth-app';
import type { ResolvedConfig } from '../config/index.js';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';

/** A GitHub API answer that was not a success: its status decides whether to try again. */
export class GithubApiError extends Error {
  override readonly name = 'GithubApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  /** 5xx, 429, rate limits, a token that expired, the network: worth another try. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 401;
  }
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Where GitHub is and how Patchbay authenticates to it. */
export interface GithubClient {
  /** False when neither a token nor an App is configured. */
  readonly configured: boolean;
  /** Whether Patchbay acts as a GitHub App (installation tokens). */
  readonly isApp: boolean;
  /** A REST call on behalf of `repository` (`owner/name`); resolves with the parsed body. */
  rest<T>(repository: string, method: HttpMethod, path: string, body?: unknown): Promise<T>;
  /** A GraphQL call on behalf of `repository`. */
  graphql<T>(repository: string, query: string, variables: Record<string, unknown>): Promise<T>;
  /** A token git can push `repository` with (`x-access-token`). */
  gitToken(repository: string, refresh?: boolean): Promise<string>;
  /** `<githubUrl>/<owner>/<name>.git` */
  cloneUrl(repository: string): string;
  /** A call as the App itself (JWT): installation look-ups. */
  appRest<T>(method: HttpMethod, path: string): Promise<T>;
}

export interface GithubClientOptions {
  config: Pick<
    ResolvedConfig,
    'githubToken' | 'githubAppId' | 'githubAppPrivateKeyFile' | 'githubApiUrl' | 'githubUrl'
  >;
  log: Logger;
  /** The installation recorded for a repository (installation events), before asking GitHub. */
  installationOf?: (repository: string) => Promise<number | undefined>;
  fetch?: typeof fetch;
}

/** GitHub's GraphQL endpoint beside its REST one (`/api/v3` → `/api/graphql` on GHE). */
export function graphqlUrl(apiUrl: string): string {
  return apiUrl.endsWith('/api/v3') ? `${apiUrl.slice(0, -3)}graphql` : `${apiUrl}/graphql`;
}

/**
 * The GitHub client: a token (PATCHBAY_GITHUB_TOKEN) or a GitHub App whose installation
 * tokens @octokit/auth-app mints and caches (until shortly before they expire). A call
 * refused with 401 under an App drops the cached token and is made once more with a fresh
 * one: an installation token that expired (or was revoked) is not a failure.
 */
export function createGithubClient(options: GithubClientOptions): GithubClient {
  const { config, log } = options;
  const doFetch = options.fetch ?? fetch;
  const apiUrl = config.githubApiUrl;
  /**
   * The App's authentication, made on first use: @octokit/* (~130 KB of code) load only when a
   * GitHub App is configured and called, not at every start (docs/architecture.md, "Memory").
   */
  let appAuth: (() => Promise<ReturnType<typeof createAppAuth>>) | undefined;
  if (config.githubAppId !== undefined && config.githubAppPrivateKeyFile) {
    let privateKey: string;
    try {
      privateKey = readFileSync(config.githubAppPrivateKeyFile, 'utf8');
    } catch (err) {
      throw new PatchbayError(
        'GITHUB_NOT_CONFIGURED',
        `cannot read the GitHub App private key ${config.githubAppPrivateKeyFile}: ${(err as Error).message}`,
      );
    }
    const appId = config.githubAppId;
    let made: Promise<ReturnType<typeof createAppAuth>> | undefined;
    appAuth = () =>
      (made ??= Promise.all([import('@octokit/auth-app'), import('@octokit/rest')]).then(
        ([{ createAppAuth: create }, { Octokit }]) =>
          create({
            appId,
            privateKey,
            request: new Octokit({ baseUrl: apiUrl, log: quiet }).request,
          }),
      ));
  }
  const installations = new Map<string, number>();

  async function installationId(repository: string): Promise<number> {
    const known = installations.get(repository) ?? (await options.installationOf?.(repository));
    if (known !== undefined) return known;
    const found = await appRest<{ id: number }>('GET', `/repos/${repository}/installation`);
    installations.set(repository, found.id);
    return found.id;
  }

  async function token(repository: string, refresh = false): Promise<string> {
    if (appAuth) {
      const auth = await (
        await appAuth()
      )({
        type: 'installation',
        installationId: await installationId(repository),
        ...(refresh && { refresh: true }),
      });
      return auth.token;
    }
    if (config.githubToken) return config.githubToken;
    throw new PatchbayError(
      'GITHUB_NOT_CONFIGURED',
      'set PATCHBAY_GITHUB_TOKEN, or PATCHBAY_GITHUB_APP_ID and PATCHBAY_GITHUB_APP_PRIVATE_KEY_FILE',
    );
  }

  async function send<T>(url: string, method: string, auth: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: auth,
          'x-github-api-version': '2022-11-28',
          'user-agent': 'patchbay',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new GithubApiError(0, `GitHub is unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { message?: string; errors?: { message?: string }[] };
        message = [parsed.message, ...(parsed.errors ?? []).map((e) => e.message)]
          .filter(Boolean)
          .join(': ');
      } catch {
        // not JSON: keep the text
      }
      throw new GithubApiError(
        res.status,
        `${method} ${new URL(url).pathname}: ${res.status} ${message}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A call with the repository's token, once more with a fresh one after a 401 (App). */
  async function withToken<T>(repository: string, call: (auth: string) => Promise<T>): Promise<T> {
    try {
      return await call(`token ${await token(repository)}`);
    } catch (err) {
      if (!(err instanceof GithubApiError) || err.status !== 401 || !appAuth) throw err;
      log.info({ repository }, 'GitHub refused the installation token: minting a new one');
      return call(`token ${await token(repository, true)}`);
    }
  }

  async function appRest<T>(method: HttpMethod, path: string): Promise<T> {
    if (!appAuth) throw new PatchbayError('GITHUB_NOT_CONFIGURED', 'no GitHub App is configured');
    const { token: jwt } = await (await appAuth())({ type: 'app' });
    return send<T>(`${apiUrl}${path}`, method, `Bearer ${jwt}`);
  }

  return {
    configured: appAuth !== undefined || config.githubToken !== undefined,
    isApp: appAuth !== undefined,
    rest: (repository, method, path, body) =>
      withToken(repository, (auth) => send(`${apiUrl}${path}`, method, auth, body)),
    async graphql<T>(repository: string, query: string, variables: Record<string, unknown>) {
      const answer = await withToken(repository, (auth) =>
        send<{ data?: T; errors?: { message: string }[] }>(graphqlUrl(apiUrl), 'POST', auth, {
          query,
          variables,
        }),
      );
      if (answer.errors?.length) {
        throw new GithubApiError(422, `GraphQL: ${answer.errors.map((e) => e.message).join('; ')}`);
      }
      return answer.data as T;
    },
    gitToken: (repository, refresh) => token(repository, refresh),
    cloneUrl: (repository) => `${config.githubUrl}/${repository}.git`,
    appRest,
  };
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
