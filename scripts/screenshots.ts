/**
 * Regenerates the screenshots in docs/dashboard/ (referenced from docs/dashboard.md): a real
 * `patchbay serve` from the built dist/, seeded as the browser tests seed it, photographed by
 * Debian's Chromium. Run after `npm run build`:
 *
 *   npx tsx scripts/screenshots.ts
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test/e2e/helpers.js';
import {
  cleanupDashboard,
  DESKTOP,
  launchBrowser,
  openPage,
  PHONE,
  startDashboard,
  waitFor,
} from '../test/dashboard/harness.js';
import { AGENT_BINS, seedPages } from '../test/dashboard/seed-pages.js';

const OUT = join(import.meta.dirname, '..', 'docs', 'dashboard');

interface Shot {
  name: string;
  path: string;
  viewport?: { width: number; height: number };
  theme?: 'light' | 'dark';
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dataDir = tempDir('patchbay-screens-');
  const [dash, browser] = await Promise.all([
    startDashboard({
      dataDir,
      env: {
        ...AGENT_BINS,
        PATCHBAY_INBOX_DEV_SEED: '1',
        // OAuth apps (the providers' own endpoints; nothing is called while photographing).
        PATCHBAY_INBOX_APPS: JSON.stringify(
          Object.fromEntries(
            ['gmail', 'jira', 'github', 'drive'].map((k) => [
              k,
              { clientId: `demo-${k}`, clientSecret: 'demo' },
            ]),
          ),
        ),
      },
    }),
    launchBrowser(),
  ]);
  try {
    const seed = await seedPages(dash.server.api, dataDir, join(dataDir, 'workspaces'));
    // The inbox pages show the server's demo data (POST /v1/dev/seed), as their tests do.
    const inbox = await dash.server.api.request('POST', '/v1/dev/seed');
    if (inbox.status !== 201) throw new Error(`POST /v1/dev/seed: ${inbox.status} ${inbox.text}`);
    const shots: Shot[] = [
      { name: 'runs', path: '/runs' },
      { name: 'conversation', path: `/conversations/${seed.conversationId}` },
      { name: 'repository', path: `/repos/${seed.repoId}?path=src` },
      { name: 'optimizer', path: `/optimizer?optimization=${seed.optimizationId}` },
      { name: 'proposal', path: `/optimizer/proposals/${seed.proposalId}` },
      { name: 'proposal-dark', path: `/optimizer/proposals/${seed.proposalId}`, theme: 'dark' },
      { name: 'proposal-360', path: `/optimizer/proposals/${seed.proposalId}`, viewport: PHONE },
      { name: 'schedules', path: `/schedules?id=${seed.scheduleId}` },
      { name: 'budgets', path: '/budgets?days=30' },
      { name: 'workers', path: '/workers' },
      { name: 'settings', path: '/settings?changed=1' },
      { name: 'inbox', path: '/inbox' },
      { name: 'inbox-360', path: '/inbox', viewport: PHONE },
      { name: 'inbox-graph', path: '/inbox/graph' },
      { name: 'inbox-graph-dark', path: '/inbox/graph', theme: 'dark' },
      { name: 'connectors', path: '/connectors' },
    ];
    for (const shot of shots) {
      const { context, page } = await openPage(browser, 'about:blank', shot.viewport ?? DESKTOP);
      try {
        // The theme is the shell's stored choice: set it before the app reads it.
        await page.goto(`${dash.url}/`);
        await page.evaluate(
          shot.theme ? `localStorage.setItem('patchbay.theme', '${shot.theme}')` : 'undefined',
        );
        await page.goto(`${dash.url}${shot.path}`);
        await page.locator('main h1').first().waitFor({ timeout: 20_000 });
        await waitFor(
          async () => (await page.getByText('Loading…').count()) === 0,
          `${shot.path} to finish loading`,
          20_000,
        );
        await page.screenshot({ path: join(OUT, `${shot.name}.png`), fullPage: true });
        process.stdout.write(`docs/dashboard/${shot.name}.png\n`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await dash.stop().catch(() => undefined);
    await cleanupDashboard(browser);
  }
}

await main();
