/**
 * `patchbay optimize --follow <optimization id>`: a server's optimization is a chain of stage
 * runs (detect … propose), each queued when the one before it succeeds. This follows them in
 * turn, as `logs -f` follows one run, and ends with how the chain ended.
 */
import { OptimizeStage, PatchbayError, type Run } from '../../contracts/index.js';
import type { CliContext } from '../context.js';
import { describeEnd, exitCodeOf, out, printEvent } from '../output.js';

const stageOfKind = (kind: string): OptimizeStage | null => {
  const parsed = OptimizeStage.safeParse(kind.replace(/^optimize\./, ''));
  return kind.startsWith('optimize.') && parsed.success ? parsed.data : null;
};

/** The stage run of `stage` in optimization `id`, waiting for it to be queued (up to 60 s). */
async function nextStageRun(
  ctx: CliContext,
  id: string,
  stage: OptimizeStage,
): Promise<Run | undefined> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { runs } = await ctx.client.listRuns({ parentId: id, limit: 200 });
    const found = runs.find((r) => r.kind === `optimize.${stage}`);
    if (found || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function followOptimization(
  ctx: CliContext,
  id: string,
  flags: { json?: boolean; pr?: boolean },
): Promise<void> {
  const first = await ctx.client.getRun(id);
  if (stageOfKind(first.kind) === null) {
    throw new PatchbayError(
      'VALIDATION_FAILED',
      `${id} is a run of kind ${first.kind}, not an optimization: follow it with \`patchbay logs -f ${id}\``,
      { problems: [{ path: 'follow', message: 'an optimization id (its first stage run)' }] },
    );
  }
  const optimizationId = first.parentId ?? first.id;
  let run: Run = first;
  for (;;) {
    const stage = stageOfKind(run.kind)!;
    if (!flags.json) out.note(`stage ${stage}: run ${run.id}`);
    const state = {};
    for await (const event of ctx.client.streamEvents(run.id, { reconnect: true })) {
      printEvent(event, { json: flags.json }, state);
    }
    run = await ctx.client.getRun(run.id);
    const after = OptimizeStage.options[OptimizeStage.options.indexOf(stage) + 1];
    if (run.status !== 'succeeded' || !after) break;
    const next = await nextStageRun(ctx, optimizationId, after);
    if (!next) {
      throw new PatchbayError(
        'RUN_NOT_FOUND',
        `optimization ${optimizationId}: ${stage} succeeded but no ${after} stage was queued within 60 s`,
      );
    }
    run = next;
  }
  if (!flags.json) out.note(`optimization ${optimizationId}: ${describeEnd(run)}`);
  if (flags.pr && run.status === 'succeeded') {
    await openPullRequests(ctx, optimizationId, flags);
  } else if (!flags.json && run.status === 'succeeded') {
    out.note(
      `proposals: GET /v1/proposals?optimizationId=${optimizationId}; apply one with patchbay optimize --apply <proposal> --repo <checkout>`,
    );
  }
  process.exitCode = exitCodeOf(run);
}

/**
 * `--follow <id> --pr`: the server opens a pull request per proposal of the optimization
 * (on the repository's GitHub, evidence in the body); each is printed (one JSON line each
 * with --json).
 */
async function openPullRequests(
  ctx: CliContext,
  optimizationId: string,
  flags: { json?: boolean },
): Promise<void> {
  const { proposals } = await ctx.client.listProposals({ optimizationId, limit: 100 });
  if (proposals.length === 0 && !flags.json) out.note('no proposals: no pull request to open');
  for (const proposal of proposals) {
    const pr = await ctx.client.openProposalPullRequest(optimizationId, proposal.id);
    if (flags.json) out.stdout(`${JSON.stringify({ proposalId: proposal.id, ...pr })}\n`);
    else out.note(`${pr.draft ? 'draft ' : ''}pull request ${pr.url} (${pr.branch})`);
  }
}
