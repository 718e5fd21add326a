/**
 * webhooks: how fast `POST /v1/webhooks/github` acknowledges signed deliveries when 50 arrive
 * at once: signature check, dedupe (a stored delivery id) and the 202, measured per request
 * from send to the end of the answer. The payload is a recorded `issue_comment` without the
 * trigger phrase, so what follows the acknowledgement is a cheap "ignored".
 *
 * Target: p99 < 200 ms.
 *
 *   npx tsx bench/webhooks.ts [--concurrency 50] [--rounds 10] [--warmup 2]
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import {
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

const SECRET = 'bench-webhook-secret';
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const payload = examples.find((e) => e.name === 'issue_comment')!.examples[0]!;
const body = JSON.stringify(payload);
const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

await main('webhooks', async (startedAt) => {
  const concurrency = option('concurrency', 50);
  const rounds = option('rounds', 10);
  const warmup = option('warmup', 2);
  heading(
    `webhooks: ${concurrency} concurrent signed GitHub deliveries × ${rounds} rounds (+${warmup} warm-up)`,
  );
  const server = await startBenchServer({ PATCHBAY_GITHUB_WEBHOOK_SECRET: SECRET });
  try {
    const acks: number[] = [];
    const failures: string[] = [];
    for (let round = 0; round < warmup + rounds; round++) {
      const results = await Promise.all(
        Array.from({ length: concurrency }, () =>
          httpRequest('POST', `${server.url}/v1/webhooks/github`, payload, {
            headers: {
              'x-github-event': 'issue_comment',
              'x-github-delivery': randomUUID(),
              'x-hub-signature-256': signature,
            },
          }),
        ),
      );
      for (const r of results) {
        if (r.status !== 202) failures.push(`HTTP ${r.status}: ${r.body.slice(0, 100)}`);
        else if (round >= warmup) acks.push(r.ms);
      }
    }
    const ack = roundSummary(summarize(acks));
    heading('results');
    line('acknowledged (202)', fmtMs(ack));
    if (failures.length) line('failures', failures.slice(0, 5).join('; '));
    await server.stop();
    return writeResult(
      {
        benchmark: 'webhooks',
        description:
          'Acknowledgement latency of signed GitHub webhook deliveries (signature, dedupe, 202), 50 at once.',
        parameters: { concurrency, rounds, warmup, event: 'issue_comment', bodyBytes: body.length },
        figures: { ackMs: ack, deliveries: acks.length, failures },
        targets: [
          { name: 'ack p99', target: '< 200 ms', actual: ack.p99, unit: 'ms', pass: ack.p99 < 200 },
          {
            name: 'no failures',
            target: '0',
            actual: failures.length,
            pass: failures.length === 0,
          },
        ],
      },
      startedAt,
    );
  } catch (err) {
    await server.stop();
    throw err;
  }
});
