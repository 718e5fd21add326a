import { z } from 'zod';
import { OptimizeRequest } from '../../contracts/index.js';
import { defineTool } from './tool.js';

const RepoId = z.string().min(1).max(100).describe('Repository id (repo_…) or name.');

export const optimizerTools = [
  defineTool({
    name: 'start_optimization',
    title: 'Start an optimization',
    description:
      "Starts the optimizer on a registered repository: detect, baseline, scan, patch, validate, propose, each a run. Answers at once with the first stage's run, whose id is the optimization id (list_runs with parentId lists its stages); list_proposals shows the proven speedups it found.",
    input: OptimizeRequest.extend({ repoId: RepoId }),
    mutates: true,
    call: async ({ repoId, ...request }, { backend }) => ({
      ...(await backend.api.optimize(repoId, request)),
    }),
  }),
  defineTool({
    name: 'list_proposals',
    title: 'List proposals',
    description:
      'Speedups the optimizer proved, newest first: rule, file, summary, measured speedup and its evidence. Filter by repository or optimization; page with `cursor`.',
    input: z
      .object({
        repoId: z.string().min(1).max(100).optional(),
        optimizationId: z.string().min(1).max(100).optional(),
        limit: z.number().int().min(1).max(200).default(20),
        cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
      })
      .strict(),
    mutates: false,
    call: async (query, { backend }) => ({ ...(await backend.api.listProposals(query)) }),
  }),
];
