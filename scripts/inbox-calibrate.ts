/**
 * Recalibrates the inbox's de-duplication thresholds on the fixture corpus
 * (test/fixtures/inbox/corpus, synced through the real connectors from the local fakes):
 * per similarity method, the lowest automatic-merge threshold with precision ≥ 0.95 and the
 * highest suggestion threshold with recall ≥ 0.80 (src/intake/calibration.ts).
 *
 *   npx tsx scripts/inbox-calibrate.ts            # prints; the offline method, plus the
 *                                                 # embeddings provider if one is configured
 *   npx tsx scripts/inbox-calibrate.ts --write    # rewrites src/intake/calibrated.ts (commit it)
 *   npx tsx scripts/inbox-calibrate.ts --store    # stores them in the configured store
 *                                                 # (PATCHBAY_DATABASE_URL or the data dir)
 *
 * The offline method is deterministic, so its thresholds belong with the code (calibrated.ts,
 * checked by a test against a fresh calibration). An embeddings model's thresholds depend on
 * a remote model: measure them where it is reachable and `--store` them in that deployment.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import {
  CALIBRATED,
  calibrateOnCorpus,
  createEmbeddingsSimilarity,
  createLexicalSimilarity,
  type Calibration,
  type Similarity,
} from '../src/intake/index.js';
import { keyringFor, openStore } from '../src/store/index.js';
import { duplicatePairs, syncCorpus } from '../test/fixtures/inbox/quality.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const config = loadConfig({});

const methods: Similarity[] = [createLexicalSimilarity()];
if (config.inboxEmbeddingsUrl) {
  methods.push(
    createEmbeddingsSimilarity({
      provider: config.inboxEmbeddingsProvider,
      baseUrl: config.inboxEmbeddingsUrl,
      model: config.inboxEmbeddingsModel,
      ...(config.inboxEmbeddingsApiKey ? { apiKey: config.inboxEmbeddingsApiKey } : {}),
    }),
  );
}

const { items, labels } = await syncCorpus(Date.now());
const pairs = duplicatePairs(labels, items);
const results: Calibration[] = [];
for (const method of methods) {
  const c = await calibrateOnCorpus(method, items, pairs);
  results.push(c);
  process.stdout.write(`${JSON.stringify(c)}\n`);
}

if (args.has('--write')) {
  // Entries of other methods measured elsewhere stay; the ones measured now are replaced.
  const all: Record<string, unknown> = { ...CALIBRATED };
  for (const c of results) {
    all[c.embedder] = { merge: c.merge, suggest: c.suggest, pairs: c.pairs };
  }
  const body = Object.entries(all)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v).replace(/"(\w+)":/g, '$1: ')},`)
    .join('\n');
  writeFileSync(
    join(ROOT, 'src/intake/calibrated.ts'),
    `import type { Thresholds } from './similarity.js';

/**
 * De-duplication thresholds calibrated on the fixture corpus (${items.length} items, labelled
 * duplicate pairs), per similarity method. Written by \`npx tsx scripts/inbox-calibrate.ts
 * --write\`; src/intake/calibration.test.ts fails when the offline method's entry no longer
 * matches a fresh calibration. A deployment's own calibration (inbox_thresholds) wins over it.
 */
export const CALIBRATED: Readonly<Record<string, Thresholds>> = {
${body}
};
`,
  );
  process.stdout.write('wrote src/intake/calibrated.ts\n');
}

if (args.has('--store')) {
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    keyring: keyringFor(config),
  });
  try {
    for (const c of results) {
      await store.tasks.saveThreshold(c.embedder, c);
      process.stdout.write(`stored ${c.embedder} in ${store.location}\n`);
    }
  } finally {
    await store.close();
  }
}
