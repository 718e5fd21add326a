import { z } from 'zod';
import { CreateRepoRequest } from '../../contracts/index.js';
import { defineTool } from './tool.js';

export const repoTools = [
  defineTool({
    name: 'list_repos',
    title: 'List repositories',
    description:
      'The registered repositories: id, name, URL or path, default branch. Runs and optimizations name one by id.',
    input: z.object({}).strict(),
    mutates: false,
    call: async (_args, { backend }) => ({ ...(await backend.api.listRepos()) }),
  }),
  defineTool({
    name: 'register_repo',
    title: 'Register a repository',
    description:
      'Registers a git repository so runs can work in worktrees of it: exactly one of `url` (https, cloned into the data dir) or `path` (a repository inside a trusted root, used in place).',
    input: CreateRepoRequest,
    mutates: true,
    call: async (request, { backend }) => ({ ...(await backend.api.createRepo(request)) }),
  }),
];
