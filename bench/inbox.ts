/**
 * inbox: the four intake connectors against their local fakes (real HTTP on loopback, the
 * providers' wire formats), loaded with the fixture corpus plus `--extra` generated items each.
 *
 *  1. Sync throughput per connector: a first sync (bounded backfill) to the end, items/s and
 *     requests; then a sync with nothing changed (what a poll costs when idle).
 *  2. Change → poll latency: a poller syncs every `--poll-ms`; a change is made at the source at
 *     a random moment and timed until a poll returns it, `--changes` times per connector.
 *  3. Quality: the corpus (125 items, without the extras) through the real inbox (dedupe with
 *     the committed calibration of the offline method, ranking at the replay time) against its
 *     labels: automatic-merge precision, suggested recall, precision@3 per horizon.
 *
 * Targets: nothing lost or doubled in the first sync; change → poll p95 < poll interval + 1 s;
 * merge precision ≥ 0.95, suggested recall ≥ 0.80, precision@3 ≥ 0.7 per horizon.
 *
 *   npx tsx bench/inbox.ts [--extra 500] [--poll-ms 1000] [--changes 10]
 */
import type { ConnectorKind, SourceItem } from '../src/intake/connectors/index.js';
import { CONNECTOR_KINDS } from '../src/intake/connectors/index.js';
import {
  driveComment,
  githubIssue,
  gmailMessage,
  jiraIssue,
} from '../test/fixtures/inbox/builders.js';
import { CALIBRATED, createLexicalSimilarity, labelClusters } from '../src/intake/index.js';
import type { CorpusLabels } from '../test/fixtures/inbox/corpus/corpus.js';
import { FIXED_NOW, PERSONA } from '../test/fixtures/inbox/corpus/corpus.js';
import { startCorpusFakes, type CorpusFakes } from '../test/fixtures/inbox/corpus-fakes.js';
import {
  dedupeAndRank,
  duplicatePairs,
  HORIZONS,
  resolver,
  shiftItems,
  syncCorpus,
  type DedupeAndRankResult,
} from '../test/fixtures/inbox/quality.js';
import { doubles, syncAll } from '../test/fixtures/inbox/sync-helpers.js';
import {
  fmtMs,
  heading,
  line,
  main,
  option,
  round,
  roundSummary,
  sleep,
  summarize,
  writeResult,
  type Target,
} from './lib/harness.js';

const H = 3_600_000;

/** Adds `n` generated items to each fake (spread over the last 25 days). */
function addExtra(fakes: CorpusFakes, n: number): void {
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const at = now - ((i * 7919) % (25 * 24)) * H - 60_000;
    fakes.gmail.addMessage(
      gmailMessage({
        id: `bench-g-${i}`,
        from: `"Dev ${i % 40}" <dev${i % 40}@acme.dev>`,
        to: PERSONA.email,
        subject: `Question about service ${i % 60}`,
        snippet: `Could you look at the latency of service ${i % 60}? Run ${i}.`,
        at,
      }),
    );
    fakes.jira.addIssue(
      jiraIssue({
        id: String(50_000 + i),
        key: `BEN-${i + 1}`,
        summary: `Generated task ${i}`,
        description: `Work item ${i} for the benchmark.`,
        status: i % 5 === 0 ? 'Done' : 'To Do',
        assignee: { accountId: PERSONA.jiraAccountId, displayName: PERSONA.name },
        reporter: { accountId: 'x', displayName: 'Bench' },
        created: at - H,
        updated: at,
      }),
    );
    fakes.github.addIssue(
      githubIssue({
        repo: 'acme/bench',
        number: 1000 + i,
        title: `Generated issue ${i}`,
        body: `Benchmark item ${i}`,
        author: 'bench-bot',
        assignees: [PERSONA.githubLogin],
        created: at - H,
        updated: at,
      }),
    );
  }
  // Drive: comments on 20 generated docs.
  for (let d = 0; d < 20; d++) {
    const id = `bench-doc-${d}`;
    fakes.drive.addFile({
      id,
      name: `Bench doc ${d}`,
      mimeType: 'application/vnd.google-apps.document',
      webViewLink: `https://docs.google.com/document/d/${id}/edit`,
      comments: Array.from({ length: Math.ceil(n / 20) }, (_, c) =>
        driveComment({
          id: `c${c}`,
          author: { displayName: 'Dev', emailAddress: 'dev@acme.dev' },
          content: `+${PERSONA.email} check paragraph ${c}`,
          assignee: PERSONA.email,
          created: now - c * 60_000,
        }),
      ),
    });
  }
}

/** Makes one change at the source that the next poll must return; its ref-ish marker. */
function change(fakes: CorpusFakes, kind: ConnectorKind, n: number): (item: SourceItem) => boolean {
  const marker = `bench-change-${n}`;
  switch (kind) {
    case 'gmail':
      fakes.gmail.addMessage(
        gmailMessage({
          id: marker,
          from: 'jon@acme.dev',
          to: PERSONA.email,
          subject: marker,
          snippet: 'new',
          at: Date.now(),
        }),
      );
      break;
    case 'jira':
      fakes.jira.updateIssue('10012', { summary: marker });
      break;
    case 'github':
      fakes.github.updateIssue([...fakes.github.issues.values()][0]!.node_id, { title: marker });
      break;
    case 'drive':
      fakes.drive.addComment(
        'doc-retry-design',
        driveComment({
          id: marker,
          author: { displayName: 'Ann', emailAddress: 'ann@acme.dev' },
          content: `+${PERSONA.email} ${marker}`,
          assignee: PERSONA.email,
          created: Date.now(),
        }),
      );
      break;
  }
  return (item) => item.title.includes(marker);
}

// ---------------------------------------------------------------- dedupe and ranking metrics

/**
 * Precision of automatic merges and recall of suggested duplicates, against the corpus labels.
 * Duplicates are transitive (a reply of a thread that duplicates an issue duplicates the issue),
 * so the truth is the labels' clusters: a merge is right when the two items it put in one task
 * are in one cluster. Precision counts every pair of items that share a task; recall counts the
 * labelled `suggested` pairs that share a task or whose tasks the inbox linked by a suggestion.
 */
export function dedupeScores(labels: CorpusLabels, items: SourceItem[], r: DedupeAndRankResult) {
  const cluster = labelClusters(duplicatePairs(labels, items));
  const truth = (a: string, b: string): boolean =>
    cluster.has(a) && cluster.get(a) === cluster.get(b);
  let merged = 0;
  let correct = 0;
  const wrong: string[] = [];
  for (const refs of r.tasks) {
    for (let i = 0; i < refs.length; i++) {
      for (let j = i + 1; j < refs.length; j++) {
        merged++;
        if (truth(refs[i]!, refs[j]!)) correct++;
        else wrong.push(`${refs[i]} ~ ${refs[j]}`);
      }
    }
  }
  // Tasks linked by merges or suggestions: a suggested pair is found when its items meet.
  const taskOf = new Map<string, number>();
  r.tasks.forEach((refs, t) => refs.forEach((ref) => taskOf.set(ref, t)));
  const linked = labelClusters(
    r.suggested.map(([a, b]) => [String(taskOf.get(a)), String(taskOf.get(b))] as const),
  );
  const meet = (a: string, b: string): boolean => {
    const ta = String(taskOf.get(a));
    const tb = String(taskOf.get(b));
    return ta === tb || (linked.has(ta) && linked.get(ta) === linked.get(tb));
  };
  const resolve = resolver(items);
  const suggestedLabels = labels.duplicates.filter((p) => p.merge === 'suggested');
  const found = suggestedLabels.filter((p) => meet(resolve(p.a), resolve(p.b)));
  const distinctMerged = labels.distinct.filter(
    (p) => taskOf.get(resolve(p.a)) === taskOf.get(resolve(p.b)),
  );
  const autoLabels = labels.duplicates.filter((p) => p.merge === 'auto');
  return {
    autoMergePrecision: merged ? correct / merged : 1,
    mergedPairs: merged,
    wronglyMerged: wrong,
    suggestedRecall: suggestedLabels.length ? found.length / suggestedLabels.length : 1,
    suggestedFound: `${found.length}/${suggestedLabels.length}`,
    suggestedMissed: suggestedLabels
      .filter((p) => !found.includes(p))
      .map((p) => `${p.a.id} ~ ${p.b.id}`),
    autoLabelsMerged: `${autoLabels.filter((p) => taskOf.get(resolve(p.a)) === taskOf.get(resolve(p.b))).length}/${autoLabels.length}`,
    distinctKeptApart: `${labels.distinct.length - distinctMerged.length}/${labels.distinct.length}`,
    merges: r.merges,
    suggestions: r.suggested.length,
  };
}

/** Precision@3 per horizon: how many of the expected three are in the three ranked tasks. */
export function precisionAt3(labels: CorpusLabels, items: SourceItem[], r: DedupeAndRankResult) {
  const resolve = resolver(items);
  const out: Record<string, number> = {};
  for (const horizon of HORIZONS) {
    const top = new Set(r.ranked[horizon].flat());
    out[horizon] = labels.topThree[horizon].filter((t) => top.has(resolve(t.item))).length / 3;
  }
  return out;
}

// ---------------------------------------------------------------- the run

await main('inbox', async (startedAt) => {
  const extra = option('extra', 500);
  const pollMs = option('poll-ms', 1000);
  const changes = option('changes', 10);
  heading(
    `inbox: 4 connectors against local fakes, corpus + ${extra} items each, polls every ${pollMs} ms`,
  );
  const corpusNow = Date.now();
  const fakes = await startCorpusFakes(corpusNow);
  try {
    addExtra(fakes, extra);
    const throughput: Record<string, unknown> = {};
    const latency: Record<string, unknown> = {};
    const targets: Target[] = [];
    for (const kind of CONNECTOR_KINDS) {
      const connector = fakes.connectors[kind];
      const credentials = fakes.credentials[kind];
      const fake = fakes[kind];
      const sentBefore = fake.apiRequests().length;
      const t0 = performance.now();
      const first = await syncAll(connector, credentials, null);
      const firstMs = performance.now() - t0;
      const firstRequests = fake.apiRequests().length - sentBefore;
      const idleStart = performance.now();
      const idleBefore = fake.apiRequests().length;
      const idle = await syncAll(connector, credentials, first.cursor);
      const idleMs = performance.now() - idleStart;
      throughput[kind] = {
        items: first.items.length,
        pages: first.pages,
        requests: firstRequests,
        firstSyncMs: round(firstMs),
        itemsPerSecond: round(first.items.length / (firstMs / 1000)),
        idlePollMs: round(idleMs),
        idlePollRequests: fake.apiRequests().length - idleBefore,
        ...(kind === 'github' ? { idlePoll304s: fakes.github.notModified() } : {}),
      };
      line(
        `${kind} first sync`,
        `${first.items.length} items in ${round(firstMs)} ms (${round(first.items.length / (firstMs / 1000))} items/s, ${firstRequests} requests)`,
      );
      line(
        `${kind} idle poll`,
        `${round(idleMs)} ms, ${fake.apiRequests().length - idleBefore} requests`,
      );
      targets.push({
        name: `${kind}: nothing doubled in the first sync`,
        target: '0',
        actual: doubles(first.items).length,
        pass: doubles(first.items).length === 0 && idle.items.length === 0,
      });

      // Change → poll: a poller every pollMs; a change at a random moment; time to the poll that returns it.
      let cursor = idle.cursor;
      const samples: number[] = [];
      for (let n = 0; n < changes; n++) {
        // A poller syncs at periodStart, periodStart + pollMs, …; the change lands at a random
        // moment of the period, so the wait for the next poll is part of what is measured.
        const periodStart = performance.now();
        await sleep(Math.random() * pollMs);
        const changedAt = performance.now();
        const matches = change(fakes, kind, n);
        const deadline = changedAt + pollMs * 5 + 10_000;
        let nextPoll = periodStart + pollMs;
        let seen = false;
        while (!seen && performance.now() < deadline) {
          await sleep(Math.max(0, nextPoll - performance.now()));
          const page = await syncAll(connector, credentials, cursor);
          cursor = page.cursor;
          seen = page.items.some(matches);
          nextPoll += pollMs;
        }
        if (!seen) throw new Error(`${kind}: change ${n} never returned by a poll`);
        samples.push(performance.now() - changedAt);
      }
      const s = roundSummary(summarize(samples));
      latency[kind] = s;
      line(`${kind} change → poll`, fmtMs(s));
      targets.push({
        name: `${kind}: change → poll p95`,
        target: `< ${pollMs + 1000} ms`,
        actual: s.p95,
        unit: 'ms',
        pass: s.p95 < pollMs + 1000,
      });
    }

    const notes: string[] = [
      'Connectors run in this process against loopback fakes; the numbers are the connectors’ own cost plus local HTTP, not the providers’ latency.',
      'Change → poll includes waiting for the next poll: with a poller every N ms it averages about N/2 plus one incremental sync.',
      'Quality: the corpus alone (125 items), synced again without the extras, through the real inbox on a temporary SQLite store, moved back to the story’s time (FIXED_NOW) where its texts’ dates make sense. Precision counts every pair of items that ended in one task against the labels’ clusters; recall counts labelled suggested pairs merged or linked by a suggestion.',
      'Ranking labels: month’s third was acme/infra#5 (P2, due in 18 days) until PAY-36 (high, assigned, due Mon Dec 7) replaced it — PAY-36 ties or beats it on every signal the score weighs, and the first labels had left it out of both week and month. A label fix, not a weight.',
    ];
    // Quality: the corpus (without the generated extras) through the real inbox with the
    // committed calibration of the offline method, moved back to the story's time (its texts
    // name dates: "due Dec 4") and ranked there.
    // A fresh sync of the corpus alone: the extras above would crowd it (Gmail's backfill
    // takes the newest 500 messages) and are not labelled.
    const { items: corpusItems, labels } = await syncCorpus(corpusNow);
    const q0 = performance.now();
    const storyNow = FIXED_NOW;
    const result = await dedupeAndRank(
      shiftItems(corpusItems, storyNow - corpusNow),
      new Date(storyNow),
    );
    const dedupeMs = performance.now() - q0;
    const scores = dedupeScores(labels, corpusItems, result);
    const p3 = precisionAt3(labels, corpusItems, result);
    const resolveRef = resolver(corpusItems);
    const quality = {
      measured: true,
      items: corpusItems.length,
      embedder: createLexicalSimilarity().name,
      thresholds: CALIBRATED[createLexicalSimilarity().name],
      dedupeAndRankMs: round(dedupeMs),
      ...scores,
      precisionAt3: p3,
      ranked: Object.fromEntries(
        HORIZONS.map((h) => [
          h,
          {
            got: result.ranked[h].map((refs) => refs.join(' + ')),
            expected: labels.topThree[h].map((t) => `${t.item.id} (${resolveRef(t.item)})`),
          },
        ]),
      ),
    };
    line(
      'dedupe',
      `auto-merge precision ${round(scores.autoMergePrecision)} (${scores.mergedPairs} pairs), suggested recall ${round(scores.suggestedRecall)} (${scores.suggestedFound})`,
    );
    line('precision@3', HORIZONS.map((h) => `${h} ${round(p3[h]!)}`).join(', '));
    targets.push(
      {
        name: 'automatic merge precision',
        target: '≥ 0.95',
        actual: round(scores.autoMergePrecision),
        pass: scores.autoMergePrecision >= 0.95,
      },
      {
        name: 'suggested recall',
        target: '≥ 0.80',
        actual: round(scores.suggestedRecall),
        pass: scores.suggestedRecall >= 0.8,
      },
      ...Object.entries(p3).map(([h, v]) => ({
        name: `precision@3 ${h}`,
        target: '≥ 0.7',
        actual: round(v),
        pass: v >= 0.7,
      })),
    );
    return writeResult(
      {
        benchmark: 'inbox',
        description:
          'Intake connectors against local fakes: sync throughput, idle poll cost, change → poll latency; dedupe precision/recall and ranking precision@3 of the corpus through the real inbox.',
        parameters: {
          extra,
          pollMs,
          changes,
          corpusItems:
            fakes.corpus.gmail.length + fakes.corpus.jira.length + fakes.corpus.github.length,
        },
        figures: { throughput, changeToPollMs: latency, quality },
        targets,
        notes,
      },
      startedAt,
    );
  } finally {
    await fakes.close();
  }
});
