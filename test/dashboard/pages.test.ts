/**
 * The conversations, repositories, optimizer, schedules, budgets, workers and settings pages
 * in a real browser against a real server with seeded data (see seed-pages.ts): each renders
 * what was seeded, keeps its filters and selection in the URL, does what its buttons say, the
 * proposal page draws its plots, and none has a serious or critical axe violation or a
 * horizontal scroll at 1280 or 360 px.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../e2e/helpers.js';
import {
  axeScan,
  cleanupDashboard,
  DESKTOP,
  launchBrowser,
  openPage,
  PHONE,
  startDashboard,
  testIds,
  tid,
  waitFor,
  type Dashboard,
} from './harness.js';
import { AGENT_BINS, seedPages, type PagesSeed } from './seed-pages.js';

const SECRET = 'dashboard-webhook-secret-value';
let dash: Dashboard;
let browser: Browser;
let seed: PagesSeed;

beforeAll(async () => {
  const dataDir = tempDir('patchbay-dash-pages-');
  [dash, browser] = await Promise.all([
    startDashboard({
      dataDir,
      env: { ...AGENT_BINS, PATCHBAY_WEBHOOK_SECRET: SECRET },
    }),
    launchBrowser(),
  ]);
  seed = await seedPages(dash.server.api, dataDir, join(dataDir, 'workspaces'));
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

/** Opens `path`, runs `body`, closes the context whatever happens. */
async function visit(
  path: string,
  body: (page: Page) => Promise<void>,
  viewport: { width: number; height: number } = DESKTOP,
  options: { bypassCSP?: boolean } = {},
): Promise<void> {
  const { context, page } = options.bypassCSP
    ? await openWithoutCsp(viewport, `${dash.url}${path}`)
    : await openPage(browser, `${dash.url}${path}`, viewport);
  try {
    await body(page);
  } finally {
    await context.close();
  }
}

/**
 * A page whose Content-Security-Policy lets axe-core's inline script in: the server's policy
 * (script-src 'self') rightly refuses the scanner the harness injects.
 */
async function openWithoutCsp(viewport: { width: number; height: number }, url: string) {
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(url);
  return { context, page };
}

/** The page's heading is up and nothing on it still says it is loading. */
async function settled(page: Page): Promise<void> {
  await page.locator('main h1').first().waitFor({ timeout: 20_000 });
  await waitFor(
    async () => (await page.getByText('Loading…').count()) === 0,
    'the page to finish loading',
    20_000,
  );
}

const text = (page: Page, id: string) => page.locator(tid(id)).innerText({ timeout: 20_000 });

describe('conversations', () => {
  it('lists the seeded conversation and shows its chat', async () => {
    await visit('/conversations', async (page) => {
      const row = page.locator(tid(testIds.conversations.row), { hasText: 'Tidy the README' });
      await row.waitFor({ timeout: 20_000 });
      await row.getByRole('link').click();
      await page.waitForURL(new RegExp(`/conversations/${seed.conversationId}$`));
      const messages = page.locator(tid(testIds.conversation.message));
      await waitFor(async () => (await messages.count()) === 2, 'two messages', 20_000);
      expect(await messages.nth(0).getAttribute('data-role')).toBe('user');
      await expect
        .poll(() => messages.nth(0).innerText(), { timeout: 20_000 })
        .toContain('Please tidy the README.');
      await expect
        .poll(() => messages.nth(1).innerText(), { timeout: 20_000 })
        .toContain('Done: README updated.');
    });
  }, 60_000);

  it('a new message starts a run whose answer arrives without a reload', async () => {
    await visit(`/conversations/${seed.conversationId}`, async (page) => {
      const messages = page.locator(tid(testIds.conversation.message));
      await waitFor(async () => (await messages.count()) === 2, 'the seeded messages', 20_000);
      await page.locator(tid(testIds.conversation.prompt)).fill('And the changelog.');
      // Keyboard: Ctrl+Enter sends from the message box.
      await page.locator(tid(testIds.conversation.prompt)).press('Control+Enter');
      await waitFor(async () => (await messages.count()) === 4, 'prompt and answer', 60_000);
      await expect
        .poll(() => messages.nth(2).innerText(), { timeout: 20_000 })
        .toContain('And the changelog.');
      const runLink = messages.nth(3).locator(tid(testIds.conversation.messageRun));
      expect(await runLink.getAttribute('href')).toMatch(/^\/runs\/run_/);
    });
  }, 90_000);
});

describe('repositories', () => {
  it('lists the repository, browses its files by URL and lists its runs', async () => {
    await visit('/repos', async (page) => {
      const row = page.locator(tid(testIds.repos.row), { hasText: 'lib-math' });
      await row.getByRole('link').click();
      await page.waitForURL(new RegExp(`/repos/${seed.repoId}$`));
      const files = page.locator(tid(testIds.repo.file));
      await page
        .locator(`${tid(testIds.repo.file)}[data-type="dir"]`, { hasText: 'src' })
        .getByRole('link')
        .click();
      await page.waitForURL(/path=src/);
      await files.filter({ hasText: 'fib.js' }).waitFor({ timeout: 20_000 });
      await page.getByRole('tab', { name: 'Runs' }).click();
      await page.waitForURL(/tab=runs/);
      const runs = page.locator(tid(testIds.repo.runs));
      await runs.getByText('optimize.propose').first().waitFor({ timeout: 20_000 });
      await expect.poll(() => runs.innerText(), { timeout: 20_000 }).toContain('agent');
    });
  }, 60_000);

  it('registers a repository from the form and shows an API refusal as it is', async () => {
    await visit('/repos', async (page) => {
      await page.locator(tid(testIds.repos.registerPath)).fill('/nonexistent/outside/roots');
      await page.locator(tid(testIds.repos.registerSubmit)).click();
      expect(await text(page, testIds.repos.error)).toMatch(/\([A-Z_]+\)$/);
    });
  }, 60_000);
});

describe('optimizer', () => {
  it('lists the optimization, its six stages and its proposals', async () => {
    await visit('/optimizer', async (page) => {
      await page.locator(tid(testIds.optimizer.row)).first().getByRole('link').click();
      await page.waitForURL(new RegExp(`optimization=${seed.optimizationId}`));
      const stages = page.locator(tid(testIds.optimizer.stage));
      await waitFor(async () => (await stages.count()) === 6, 'six stages', 20_000);
      await waitFor(
        async () => (await stages.locator('[data-status="succeeded"]').count()) === 6,
        'six succeeded stages',
        20_000,
      );
      const proposals = page.locator(tid(testIds.optimizer.proposalRow));
      await waitFor(async () => (await proposals.count()) === 3, 'three proposals', 20_000);
      await expect
        .poll(() => proposals.first().innerText(), { timeout: 20_000 })
        .toMatch(/× faster, −\d+\.\d % time/);
    });
  }, 60_000);

  it('shows a proposal: headline, sample plot, interval, tests, diff and the attempt trace', async () => {
    await visit(`/optimizer/proposals/${seed.proposalId}`, async (page) => {
      expect(await text(page, testIds.proposal.headline)).toMatch(
        /^\d+\.\d\d× faster, −\d+\.\d % time/,
      );
      // One dot per benchmark process: 6 baseline and 6 candidate samples were recorded.
      const plot = page.locator(`${tid(testIds.proposal.plot)} svg`);
      await plot.waitFor({ timeout: 20_000 });
      expect(await plot.locator('circle.plot-dot').count()).toBe(12);
      expect(await plot.getAttribute('aria-label')).toMatch(/baseline: 6 samples, median/);
      expect(
        await page.locator(`${tid(testIds.proposal.interval)} svg`).getAttribute('aria-label'),
      ).toMatch(/95 % lower bound \d+\.\d\d×, above the bar 1\.58×/);
      expect(await text(page, testIds.proposal.tests)).toMatch(/passed\s+test/);
      expect(await text(page, testIds.proposal.diff)).toContain('src/collections.js');
      const trace = page.locator(tid(testIds.proposal.traceRow));
      expect(await trace.count()).toBe(3);
      expect(await page.locator(`${tid(testIds.proposal.traceRow)}.opt-mine`).count()).toBe(1);
    });
  }, 60_000);

  it('the selected benchmark is in the URL', async () => {
    await visit(`/optimizer/proposals/${seed.proposalId}?benchmark=indexBy`, async (page) => {
      const select = page.locator(tid(testIds.proposal.benchmark));
      await select.waitFor({ timeout: 20_000 });
      expect(await select.inputValue()).toBe('indexBy');
      expect(
        await page.locator(`${tid(testIds.proposal.plot)} svg`).getAttribute('aria-label'),
      ).toMatch(/^indexBy:/);
    });
  }, 60_000);

  it('"create pull request" asks the API and shows its answer', async () => {
    await visit(`/optimizer/proposals/${seed.proposalId}`, async (page) => {
      await page.locator(tid(testIds.proposal.pullRequest)).click();
      // The fixture repository is not on GitHub: the API refuses, and the page says why.
      const result = page.locator(tid(testIds.proposal.actionResult));
      await result.getByText('(DELIVERY_NOT_POSSIBLE)').waitFor({ timeout: 20_000 });
    });
  }, 60_000);
});

describe('schedules', () => {
  it('shows next fires, opens one by URL, disables it and creates another', async () => {
    await visit('/schedules', async (page) => {
      const row = page.locator(tid(testIds.schedules.row), { hasText: 'nightly tests' });
      await expect
        .poll(() => row.innerText(), { timeout: 20_000 })
        .toMatch(/0 3 \* \* \*[\s\S]*in \d+/);
      await row.getByRole('link').click();
      await page.waitForURL(new RegExp(`id=${seed.scheduleId}`));
      const detail = page.locator(tid(testIds.schedules.detail));
      await expect.poll(() => detail.innerText(), { timeout: 20_000 }).toContain('echo nightly');
      await page.locator(tid(testIds.schedules.toggle)).click();
      await row.getByText('disabled').waitFor({ timeout: 20_000 });
      await page.locator(tid(testIds.schedules.name)).fill('hourly lint');
      await page.locator(tid(testIds.schedules.cron)).fill('0 * * * *');
      await page.locator(tid(testIds.schedules.command)).fill('npm run lint');
      await page.locator(tid(testIds.schedules.save)).click();
      await page
        .locator(tid(testIds.schedules.row), { hasText: 'hourly lint' })
        .waitFor({ timeout: 20_000 });
    });
  }, 60_000);
});

describe('budgets', () => {
  it("shows limits with today's use and a chart of use per day", async () => {
    await visit('/budgets?days=7', async (page) => {
      const rows = page.locator(tid(testIds.budgets.row));
      await waitFor(async () => (await rows.count()) === 2, 'global and repo budgets', 20_000);
      await expect.poll(() => rows.first().innerText(), { timeout: 20_000 }).toMatch(/\d+ \/ 200/);
      const chart = page.locator(`${tid(testIds.budgets.chart)} svg`);
      await chart.waitFor({ timeout: 20_000 });
      expect(await chart.locator('rect.bar').count()).toBe(7);
      expect(await chart.locator('.limit').count()).toBe(1);
    });
  }, 60_000);
});

describe('workers and settings', () => {
  it('shows this server as a worker with a fresh heartbeat, and the queues', async () => {
    await visit('/workers', async (page) => {
      const heartbeat = page.locator(tid(testIds.workers.heartbeat)).first();
      await expect.poll(() => heartbeat.innerText(), { timeout: 20_000 }).toMatch(/^\d+ s ago$/);
      await expect
        .poll(() => page.locator(tid(testIds.workers.queueRow)).count(), { timeout: 20_000 })
        .toBeGreaterThan(0);
    });
  }, 60_000);

  it('shows the effective settings with secrets masked, filtered by the URL', async () => {
    await visit('/settings?q=webhook_secret', async (page) => {
      const row = page.locator(tid(testIds.settings.row), { hasText: 'PATCHBAY_WEBHOOK_SECRET' });
      await expect.poll(() => row.innerText(), { timeout: 20_000 }).toContain('********');
      expect(await page.content()).not.toContain(SECRET);
    });
  }, 60_000);
});

describe('accessibility and small screens', () => {
  const pages = (): string[] => [
    '/conversations',
    `/conversations/${seed.conversationId}`,
    '/repos',
    `/repos/${seed.repoId}`,
    `/optimizer?optimization=${seed.optimizationId}`,
    `/optimizer/proposals/${seed.proposalId}`,
    `/schedules?id=${seed.scheduleId}`,
    '/budgets',
    '/workers',
    '/settings',
  ];
  for (const [name, viewport] of [
    ['1280', DESKTOP],
    ['360', PHONE],
  ] as const) {
    it(`no serious or critical axe violation and no page-wide horizontal scroll at ${name} px`, async () => {
      const failures: string[] = [];
      for (const path of pages()) {
        await visit(
          path,
          async (page) => {
            await settled(page);
            for (const v of await axeScan(page)) {
              failures.push(`${path}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(', ')}`);
            }
            const overflow = (await page.evaluate(
              'document.documentElement.scrollWidth - window.innerWidth',
            )) as number;
            if (overflow > 1) failures.push(`${path}: ${overflow}px wider than the window`);
          },
          viewport,
          { bypassCSP: true },
        );
      }
      expect(failures).toEqual([]);
    }, 240_000);
  }
});
