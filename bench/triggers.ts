/**
 * triggers: how fast a generic trigger acknowledges signed deliveries under concurrency.
 *
 * Creates one trigger (a shell run of `true`, the delivery's title handed over in env), then
 * sends N deliveries signed with the Standard Webhooks reference library (`standardwebhooks`),
 * C at a time, and times each POST /v1/triggers/:id/fire from sending to its 202: signature,
 * replay guard, mapping, the run stored and queued. The runs themselves execute meanwhile, as
 * they would in production. Then it checks that every delivery made exactly one run and that a
 * replayed delivery is refused.
 *
 * Target: what the trigger adds to creating the run is small: acknowledgement p50 and p99 within
 * 25 % (+ 20 ms) of POST /v1/runs of the same runs, interleaved in the same pool of 50. (The
 * absolute figures depend on what else the machine does; they are recorded too.)
 *
 *   npx tsx bench/triggers.ts [--deliveries 200] [--concurrency 50]
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  api,
  fmtMs,
  heading,
  httpRequest,
  line,
  main,
  option,
  roundSummary,
  startBenchServer,
  summarize,
  writeResult,
} from './lib/harness.js';

interface Created {
  id: string;
  secret: string;
}

await main('triggers', async (startedAt) => {
  const deliveries = option('deliveries', 200);
  const concurrency = option('concurrency', 50);
  const server = await startBenchServer({ PATCHBAY_MAX_CONCURRENT_RUNS: '4' });
  try {
    const trigger = await api<Created>(
      'POST',
      `${server.url}/v1/triggers`,
      {
        name: 'bench',
        run: { command: ['true'], env: { TITLE: '{{payload.issue.title}}' } },
      },
      [201],
    );
    const signer = new Webhook(trigger.secret);
    const sign = (id: string, body: string) => {
      const now = new Date();
      return {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(id, now, body),
      };
    };
    const url = `${server.url}/v1/triggers/${trigger.id}/fire`;
    const fire = async (i: number) => {
      const body = JSON.stringify({ issue: { title: `issue ${i}`, number: i } });
      const id = `msg_${randomUUID()}`;
      const res = await httpRequest('POST', url, JSON.parse(body), { headers: sign(id, body) });
      return { ...res, id, sent: body };
    };

    // Warm-up (JIT, connections, first queries), not counted.
    for (let i = 0; i < 10; i++) await fire(-i - 1);

    // Deliveries and, interleaved in the same pool, the same runs through POST /v1/runs: the
    // baseline sees the same load at the same moments (the machine is shared).
    const ms: number[] = [];
    const baseline: number[] = [];
    const statuses = new Map<number, number>();
    const runIds = new Set<string>();
    let next = 0;
    let last: Awaited<ReturnType<typeof fire>> | undefined;
    const wallStart = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < 2 * deliveries) {
          const i = next++;
          if (i % 2 === 1) {
            const res = await httpRequest('POST', `${server.url}/v1/runs`, {
              command: ['true'],
              env: { TITLE: `issue ${i}` },
            });
            if (res.status === 202) baseline.push(res.ms);
            continue;
          }
          const res = await fire(i / 2);
          ms.push(res.ms);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 202) runIds.add((JSON.parse(res.body) as { runId: string }).runId);
          last = res;
        }
      }),
    );
    const wallS = (performance.now() - wallStart) / 1000;
    const replay = await httpRequest('POST', url, JSON.parse(last!.sent), {
      headers: sign(last!.id, last!.sent),
    });
    const replayCode = (JSON.parse(replay.body) as { error?: { code: string } }).error?.code;

    const runs = roundSummary(summarize(baseline));
    const ack = roundSummary(summarize(ms));
    heading('results');
    line('POST …/fire → 202', fmtMs(ack));
    line('POST /v1/runs → 202 (baseline)', fmtMs(runs));
    line('requests per second (both kinds)', ((2 * deliveries) / wallS).toFixed(0));
    line('answers', [...statuses].map(([s, n]) => `${s}×${n}`).join(' '));
    line('distinct runs', String(runIds.size));
    line('replayed delivery', `${replay.status} ${replayCode ?? ''}`);

    return writeResult(
      {
        benchmark: 'triggers',
        description:
          'acknowledgement latency of Standard Webhooks signed trigger deliveries under concurrency',
        parameters: { deliveries, concurrency, maxConcurrentRuns: 4 },
        figures: {
          ackMs: ack,
          createRunBaselineMs: runs,
          requestsPerSecond: Math.round((2 * deliveries) / wallS),
          statuses: Object.fromEntries(statuses),
          distinctRuns: runIds.size,
          replay: { status: replay.status, code: replayCode },
        },
        targets: [
          {
            name: 'acknowledgement p50 vs POST /v1/runs p50',
            target: `≤ ${(runs.p50 * 1.25 + 20).toFixed(0)} ms (1.25 × ${runs.p50} + 20)`,
            actual: ack.p50,
            unit: 'ms',
            pass: ack.p50 <= runs.p50 * 1.25 + 20,
          },
          {
            name: 'acknowledgement p99 vs POST /v1/runs p99',
            target: `≤ ${(runs.p99 * 1.25 + 20).toFixed(0)} ms (1.25 × ${runs.p99} + 20)`,
            actual: ack.p99,
            unit: 'ms',
            pass: ack.p99 <= runs.p99 * 1.25 + 20,
          },
          {
            name: 'every delivery made one run',
            target: `${deliveries}`,
            actual: runIds.size,
            pass: runIds.size === deliveries && statuses.get(202) === deliveries,
          },
          {
            name: 'a replayed delivery is refused',
            target: '401 TRIGGER_WEBHOOK_REPLAYED',
            actual: `${replay.status} ${replayCode ?? ''}`,
            pass: replay.status === 401 && replayCode === 'TRIGGER_WEBHOOK_REPLAYED',
          },
        ],
        notes: [
          'The runs (`true`) execute while deliveries arrive (4 at a time), as in production.',
          'Timed on a shared machine: figures are noisy. The baseline (POST /v1/runs of the same runs, interleaved with the deliveries in one pool of `concurrency`) tells what creating a run costs under the same load.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
