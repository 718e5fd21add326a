import { z } from 'zod';
import { LlmRepoSettings } from './llm.js';

/** `owner/name` as GitHub spells it. */
export const GithubRepoName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, 'owner/name');

/** Body of `POST /v1/repos`: exactly one of `url` (cloned) or `path` (used in place). */
export const CreateRepoRequest = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe('https:// URL to clone into the data dir.'),
    path: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('A git repository inside a trusted root, used in place.'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .optional()
      .describe('Defaults to the last part of the URL or path.'),
    defaultBranch: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("Defaults to the repository's HEAD branch."),
    github: GithubRepoName.optional().describe(
      'The repository on GitHub (`owner/name`): cloned from PATCHBAY_GITHUB_URL when neither url nor path is given, and where runs deliver branches and pull requests.',
    ),
  })
  .strict()
  .refine(
    (r) =>
      [r.url, r.path].filter((v) => v !== undefined).length === 1 ||
      (r.url === undefined && r.path === undefined && r.github !== undefined),
    { message: 'give exactly one of url or path (or only github)', path: ['url'] },
  );
export type CreateRepoRequest = z.infer<typeof CreateRepoRequest>;

export const Repo = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string().nullable(),
  path: z.string(),
  defaultBranch: z.string(),
  /** True when Patchbay cloned it (and removes the clone when the repo is deleted). */
  managed: z.boolean(),
  createdAt: z.string(),
  /** The repository's own provider and model (`PATCH /v1/repos/:id`); null: the server's. */
  llm: LlmRepoSettings.nullable().optional(),
  /** `owner/name` on GitHub (null: not a GitHub repository) and GitHub's id for it. */
  github: z.string().nullable().optional(),
  githubId: z.number().int().nullable().optional(),
});
export type Repo = z.infer<typeof Repo>;

export const RepoList = z.object({ repos: z.array(Repo) });
export type RepoList = z.infer<typeof RepoList>;

export const RepoFilesQuery = z
  .object({
    path: z
      .string()
      .max(4096)
      .default('')
      .describe('Directory inside the repository; empty for the root.'),
  })
  .strict();

export const RepoFile = z.object({
  path: z.string(),
  name: z.string(),
  type: z.enum(['file', 'dir']),
});
export const RepoFileList = z.object({ path: z.string(), entries: z.array(RepoFile) });
export type RepoFileList = z.infer<typeof RepoFileList>;

/** Body of `PATCH /v1/repos/:id`: settings of a registered repository. */
export const UpdateRepoRequest = z
  .object({
    llm: LlmRepoSettings.nullable().describe(
      "The repository's provider and model for model calls; null returns to the server's default. Wins over `llm` in the repository's `.patchbay.json`.",
    ),
  })
  .strict();
export type UpdateRepoRequest = z.infer<typeof UpdateRepoRequest>;
