import { z } from 'zod';
import { Deliver } from './runs.js';

/** What the GitHub Action a `deliver: actions` run dispatched reported when its job ended. */
export const ActionsOutcome = z.object({
  /** The status of the Patchbay run inside the job (`succeeded`, `failed`, …). */
  status: z.string(),
  branch: z.string().nullable(),
  pullRequestUrl: z.string().nullable(),
  /** The workflow run, where its logs are. */
  logsUrl: z.string().nullable(),
  reportedAt: z.string(),
  webhookId: z.string(),
});
export type ActionsOutcome = z.infer<typeof ActionsOutcome>;

/**
 * Where a repository run's delivery stands (`GET /v1/runs/:id/delivery`): the branch pushed to
 * GitHub and its commit, the pull request, the dispatch of the GitHub Action and its report.
 */
export const RunDelivery = z.object({
  runId: z.string(),
  deliver: Deliver,
  /** The last failure of the delivery (retried), or of the GitHub Action it dispatched. */
  deliveryError: z.string().nullable(),
  /** `owner/name`. */
  repository: z.string().nullable(),
  branch: z.string().nullable(),
  pushedCommit: z.string().nullable(),
  pullRequest: z
    .object({ number: z.number().int(), url: z.string(), draft: z.boolean() })
    .nullable(),
  /** When the `repository_dispatch` for the GitHub Action was sent. */
  dispatchedAt: z.string().nullable(),
  actions: ActionsOutcome.nullable(),
});
export type RunDelivery = z.infer<typeof RunDelivery>;

/** The answer to a recorded GitHub Action report. */
export const ActionsReportAck = z.object({ runId: z.string(), recorded: z.literal(true) });
