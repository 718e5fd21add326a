import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import {
  PatchbayError,
  type CreateRepoRequest,
  type UpdateRepoRequest,
  type Repo,
  type RepoFileList,
} from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { GithubClient } from '../github/index.js';
import { newRepoId, type Store } from '../store/index.js';
import {
  assertSafeRepoUrl,
  cloneRepo,
  fetchRepo,
  git,
  headBranch,
  inspectLocalRepo,
  listRepoFiles,
} from '../workspaces/index.js';

/** Registered repositories: a local path used in place, or an https URL cloned into the data dir. */
export function createRepoService(deps: {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  /** Clones `github: owner/name` repositories (with the configured token or App). */
  github?: GithubClient;
}) {
  const { config, store, log, github } = deps;
  const gitOptions = { env: config.childEnvBase, timeoutMs: config.cloneTimeoutMs };

  async function get(id: string): Promise<Repo> {
    const repo = await store.repos.get(id);
    if (!repo) throw new PatchbayError('REPO_NOT_FOUND', `no repository ${id}`, { id });
    return repo;
  }

  /**
   * Clones `owner/name` from PATCHBAY_GITHUB_URL with the configured credentials (given to
   * git through its environment, never stored in the clone).
   */
  async function cloneFromGithub(name: string, dest: string): Promise<void> {
    if (!github?.configured) throw new PatchbayError('GITHUB_NOT_CONFIGURED');
    const token = await github.gitToken(name);
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    await git(['clone', '-q', '--', github.cloneUrl(name), dest], '/', {
      ...gitOptions,
      env: {
        ...gitOptions.env,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      },
    }).catch(async (err: unknown) => {
      await rm(dest, { recursive: true, force: true });
      throw new PatchbayError(
        'REPO_CLONE_FAILED',
        `could not clone ${name} from GitHub: ${(err as Error).message}`,
      );
    });
  }

  return {
    /** Registers what an App installation reaches (installation events), or updates it. */
    async registerFromGithub(facts: {
      fullName: string;
      githubId: number;
      installationId: number;
      defaultBranch?: string;
    }): Promise<Repo> {
      const known = await store.repos.findByGithub(facts.fullName);
      if (known) {
        await store.repos.setGithub(known.id, {
          github: facts.fullName,
          githubId: facts.githubId,
          installationId: facts.installationId,
          ...(facts.defaultBranch && { defaultBranch: facts.defaultBranch }),
        });
        return get(known.id);
      }
      const id = newRepoId();
      const path = join(config.dataDir, 'repos', id);
      await store.repos.insert({
        id,
        name: facts.fullName.split('/')[1]!,
        url: github?.cloneUrl(facts.fullName) ?? null,
        path,
        defaultBranch: facts.defaultBranch ?? 'main',
        managed: true,
        createdAt: new Date().toISOString(),
        github: facts.fullName,
        githubId: facts.githubId,
        llm: null,
      });
      await store.repos.setGithub(id, {
        github: facts.fullName,
        githubId: facts.githubId,
        installationId: facts.installationId,
      });
      try {
        await cloneFromGithub(facts.fullName, path);
        const head = await headBranch(path, gitOptions);
        if (!facts.defaultBranch)
          await store.repos.setGithub(id, { github: facts.fullName, defaultBranch: head });
      } catch (err) {
        // Registered all the same: the next event or a fetch clones it.
        log.warn(
          { err, repository: facts.fullName },
          'could not clone a repository of an installation',
        );
      }
      log.info({ repoId: id, repository: facts.fullName }, 'repository registered from GitHub');
      return get(id);
    },
    async create(request: CreateRepoRequest): Promise<Repo> {
      const id = newRepoId();
      let path: string;
      let managed = false;
      if (request.path !== undefined) {
        path = await inspectLocalRepo(request.path, config.workspaceRoots, gitOptions);
      } else if (request.url === undefined && request.github !== undefined) {
        path = join(config.dataDir, 'repos', id);
        await cloneFromGithub(request.github, path);
        managed = true;
      } else {
        const target = await assertSafeRepoUrl(request.url!, {
          allowPrivate: config.allowPrivateRepoUrls,
        });
        path = join(config.dataDir, 'repos', id);
        await cloneRepo(target, path, gitOptions);
        managed = true;
      }
      const source =
        request.path ?? (request.url ? new URL(request.url).pathname : request.github!);
      const repo: Repo = {
        id,
        name: request.name ?? (basename(source).replace(/\.git$/, '') || id),
        url: request.url ?? (request.github && github ? github.cloneUrl(request.github) : null),
        github: request.github ?? null,
        path,
        defaultBranch: request.defaultBranch ?? (await headBranch(path, gitOptions)),
        managed,
        createdAt: new Date().toISOString(),
        llm: null,
      };
      await store.repos.insert(repo);
      log.info({ repoId: id, path, managed }, 'repository registered');
      return repo;
    },
    get,
    list: () => store.repos.list(),
    /** Changes a repository's settings: its provider and model for model calls. */
    async update(id: string, request: UpdateRepoRequest): Promise<Repo> {
      const llm = request.llm && Object.keys(request.llm).length > 0 ? request.llm : null;
      if (!(await store.repos.setLlm(id, llm))) {
        throw new PatchbayError('REPO_NOT_FOUND', `no repository ${id}`, { id });
      }
      log.info({ repoId: id, llm }, 'repository settings changed');
      return get(id);
    },
    async remove(id: string): Promise<Repo> {
      const repo = await get(id);
      await store.repos.delete(id);
      // Only what we cloned is ours to delete; a registered path is the user's.
      if (repo.managed) await rm(repo.path, { recursive: true, force: true });
      return repo;
    },
    async fetch(id: string): Promise<Repo> {
      const repo = await get(id);
      if (!repo.managed || !repo.url) return repo;
      // Checked again: what the name resolves to may have changed since the clone.
      const target = await assertSafeRepoUrl(repo.url, {
        allowPrivate: config.allowPrivateRepoUrls,
      });
      await fetchRepo(repo.path, target, gitOptions);
      // Runs start from the default branch: in a clone that is ours (nobody commits to it;
      // runs commit on patchbay/<id>), it follows upstream, working tree included (files).
      const upstream = `origin/${repo.defaultBranch}`;
      const exists = await git(
        ['rev-parse', '--verify', '-q', `${upstream}^{commit}`],
        repo.path,
        gitOptions,
      )
        .then(() => true)
        .catch(() => false);
      if (exists) {
        await git(
          ['checkout', '-q', '--force', '-B', repo.defaultBranch, upstream],
          repo.path,
          gitOptions,
        );
      } else {
        log.warn(
          { repoId: id, branch: repo.defaultBranch },
          'default branch is gone upstream; left as it was',
        );
      }
      return repo;
    },
    async files(id: string, dir: string): Promise<RepoFileList> {
      const repo = await get(id);
      const entries = await listRepoFiles(repo.path, dir, gitOptions);
      return { path: dir, entries };
    },
  };
}

export type RepoService = ReturnType<typeof createRepoService>;
