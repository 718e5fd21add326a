import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateRepoRequest,
  ErrorBody,
  Repo,
  RepoFileList,
  RepoFilesQuery,
  RepoList,
  UpdateRepoRequest,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

export const RepoIdParams = z.object({ id: z.string().min(1).max(100) });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 502: ErrorBody };

export function repoRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { repos } = deps;
  return async (app) => {
    app.post(
      '/v1/repos',
      {
        schema: {
          tags: ['repos'],
          summary: 'Register a repository (a local path in place, or an https URL to clone)',
          body: CreateRepoRequest,
          response: { 201: Repo, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await repos.create(request.body)),
    );
    app.get(
      '/v1/repos',
      {
        schema: {
          tags: ['repos'],
          summary: 'List repositories',
          response: { 200: RepoList, ...errors },
        },
      },
      async () => ({ repos: await repos.list() }),
    );
    app.get(
      '/v1/repos/:id',
      {
        schema: {
          tags: ['repos'],
          summary: 'Get a repository',
          params: RepoIdParams,
          response: { 200: Repo, ...errors },
        },
      },
      async (request) => repos.get(request.params.id),
    );
    app.patch(
      '/v1/repos/:id',
      {
        schema: {
          tags: ['repos'],
          summary: "Change a repository's settings (its model provider and model)",
          params: RepoIdParams,
          body: UpdateRepoRequest,
          response: { 200: Repo, ...errors },
        },
      },
      async (request) => repos.update(request.params.id, request.body),
    );
    app.delete(
      '/v1/repos/:id',
      {
        schema: {
          tags: ['repos'],
          summary:
            'Forget a repository (a clone Patchbay made is deleted; a registered path is left alone)',
          params: RepoIdParams,
          response: { 200: Repo, ...errors },
        },
      },
      async (request) => repos.remove(request.params.id),
    );
    app.post(
      '/v1/repos/:id/fetch',
      {
        schema: {
          tags: ['repos'],
          summary: 'Fetch a cloned repository',
          params: RepoIdParams,
          response: { 200: Repo, ...errors },
        },
      },
      async (request) => repos.fetch(request.params.id),
    );
    app.get(
      '/v1/repos/:id/files',
      {
        schema: {
          tags: ['repos'],
          summary: 'Entries of a directory, directories first, honouring .gitignore',
          params: RepoIdParams,
          querystring: RepoFilesQuery,
          response: { 200: RepoFileList, ...errors },
        },
      },
      async (request) => repos.files(request.params.id, request.query.path),
    );
  };
}
