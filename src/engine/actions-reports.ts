import { z } from 'zod';
import { PatchbayError, type ActionsOutcome } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { signingKey, verifyStandardWebhook } from './standard-webhooks.js';

/**
 * The report the Patchbay GitHub Action (action/report.mjs) sends when its job ends: the
 * status of the run it made inside the job, where it worked and where its logs are.
 */
export const ActionsReport = z.object({
  runId: z.string().min(1).max(100),
  status: z.string().min(1).max(40),
  branch: z.string().max(300).nullish(),
  pullRequestUrl: z.string().max(2000).nullish(),
  logsUrl: z.string().max(2000).nullish(),
});
export type ActionsReport = z.infer<typeof ActionsReport>;

/** Where the dedupe of reports keeps their webhook ids (`webhook_deliveries.source`). */
const SOURCE = 'actions';

/**
 * Receives the reports of GitHub Actions that `deliver: actions` runs dispatched. A report is
 * signed with the Standard Webhooks scheme under the key that run's dispatch handed out
 * (`client_payload.report_secret`), within the replay window, once per `webhook-id`; it is
 * recorded on the run's delivery (`GET /v1/runs/:id/delivery` → `actions`) and decides the
 * run's `deliveryError`: a job that did not succeed is a delivery that did not.
 */
export function createActionsReports(deps: {
  store: Pick<Store, 'deliveries' | 'webhookDeliveries' | 'runs'>;
  log: Logger;
  toleranceMs: number;
}) {
  const { store } = deps;

  /**
   * Verifies and records one report for `runId`.
   * @throws PatchbayError ACTIONS_REPORT_UNAUTHORIZED, ACTIONS_REPORT_EXPIRED,
   *   ACTIONS_REPORT_REPLAYED, VALIDATION_FAILED
   */
  async function record(
    runId: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): Promise<ActionsOutcome> {
    // Unknown run and undispatched run answer like a wrong signature: an unauthenticated
    // caller learns nothing about which runs exist.
    const state = await store.deliveries.get(runId);
    const secret = state?.actionsSecret;
    if (!secret) throw new PatchbayError('ACTIONS_REPORT_UNAUTHORIZED');
    let webhookId: string;
    try {
      webhookId = verifyStandardWebhook(signingKey(secret), headers, body, {
        toleranceMs: deps.toleranceMs,
      }).id;
    } catch (err) {
      if (err instanceof PatchbayError && err.code === 'TRIGGER_TIMESTAMP_EXPIRED') {
        throw new PatchbayError('ACTIONS_REPORT_EXPIRED', undefined, err.details);
      }
      throw new PatchbayError('ACTIONS_REPORT_UNAUTHORIZED');
    }
    let report: ActionsReport;
    try {
      report = ActionsReport.parse(JSON.parse(body.toString('utf8')));
    } catch {
      throw new PatchbayError(
        'VALIDATION_FAILED',
        'the report is not JSON of the form {runId, status, branch?, pullRequestUrl?, logsUrl?}',
      );
    }
    if (report.runId !== runId) {
      throw new PatchbayError('VALIDATION_FAILED', `the report is about ${report.runId}`);
    }
    const dedupeId = `${runId}:${webhookId}`;
    if (!(await store.webhookDeliveries.remember(dedupeId, SOURCE, 'report'))) {
      throw new PatchbayError('ACTIONS_REPORT_REPLAYED');
    }
    const outcome: ActionsOutcome = {
      status: report.status,
      branch: report.branch ?? null,
      pullRequestUrl: report.pullRequestUrl ?? null,
      logsUrl: report.logsUrl ?? null,
      reportedAt: new Date().toISOString(),
      webhookId,
    };
    await store.deliveries.update(runId, { actions: outcome });
    await store.runs.update(runId, {
      deliveryError:
        report.status === 'succeeded'
          ? null
          : `the GitHub Action ended ${report.status}${outcome.logsUrl ? `: ${outcome.logsUrl}` : ''}`,
    });
    // Handled at once: the id stays only to refuse a replay, until the retention prunes it.
    await store.webhookDeliveries.settle(dedupeId, SOURCE);
    deps.log.info({ runId, status: report.status, webhookId }, 'GitHub Action reported');
    return outcome;
  }

  return { record };
}

export type ActionsReports = ReturnType<typeof createActionsReports>;
