/**
 * The runs list in a real browser against a real server: seeded runs render with their
 * status, filters live in the URL, a new run and its status changes arrive through the live
 * feed (no reload, no polling of the list), and the page has no serious accessibility
 * violation at desktop or phone width.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let dash: Dashboard;
let browser: Browser;
const seeded: { ok: string; failed: string } = { ok: '', failed: '' };

beforeAll(async () => {
  [dash, browser] = await Promise.all([startDashboard(), launchBrowser()]);
  const api = dash.server.api;
  const ok = await api.createRun({ command: ['sh', '-c', 'echo seeded-ok'] });
  const failed = await api.createRun({ command: ['sh', '-c', 'echo seeded-bad >&2; exit 3'] });
  await api.waitForStatus(ok.id, undefined, 30_000);
  await api.waitForStatus(failed.id, undefined, 30_000);
  seeded.ok = ok.id;
  seeded.failed = failed.id;
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

describe('runs list', () => {
  it('renders the seeded runs with their statuses', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/`);
    try {
      await page.waitForURL(/\/runs$/, { timeout: 20_000 });
      const okRow = page.locator(`${tid(testIds.runs.row)}[data-run-id="${seeded.ok}"]`);
      const badRow = page.locator(`${tid(testIds.runs.row)}[data-run-id="${seeded.failed}"]`);
      await okRow.waitFor({ timeout: 20_000 });
      expect(await okRow.locator(tid(testIds.runs.status)).getAttribute('data-status')).toBe(
        'succeeded',
      );
      expect(await badRow.locator(tid(testIds.runs.status)).getAttribute('data-status')).toBe(
        'failed',
      );
    } finally {
      await context.close();
    }
  }, 60_000);

  it('keeps the status filter in the URL and applies it on load', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs`);
    try {
      await page.locator(tid(testIds.runs.list)).waitFor({ timeout: 20_000 });
      await page.locator(tid(testIds.runs.filterStatus)).selectOption('failed');
      await page.waitForURL(/status=failed/, { timeout: 10_000 });
      await waitFor(
        async () => (await page.locator(tid(testIds.runs.row)).count()) === 1,
        'only the failed run to be listed',
        20_000,
      );
      // The same URL in a fresh page shows the same view.
      const linked = await context.newPage();
      await linked.goto(page.url());
      await linked.locator(`${tid(testIds.runs.row)}[data-run-id="${seeded.failed}"]`).waitFor();
      expect(await linked.locator(tid(testIds.runs.filterStatus)).inputValue()).toBe('failed');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows a new run and its status changes live, with no reload and no polling', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    // Every GET of the runs list (GET /v1/runs?…), and the live feed's connections.
    const listRequests: string[] = [];
    const feedRequests: string[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (req.method() === 'GET' && url.pathname === '/v1/runs') listRequests.push(req.url());
      if (url.pathname === '/v1/events') feedRequests.push(req.url());
    });
    try {
      await page.goto(`${dash.url}/runs`);
      await page.locator(tid(testIds.runs.list)).waitFor({ timeout: 20_000 });
      const live = page.locator(tid(testIds.app.liveState));
      await waitFor(
        async () => (await live.getAttribute('data-state')) === 'live',
        'the live feed to be connected',
        20_000,
        100,
      );
      expect(await live.getAttribute('data-polling')).toBe('0');
      expect(listRequests).toHaveLength(1);
      const run = await dash.server.api.createRun({
        command: ['sh', '-c', 'sleep 1.5; echo done'],
      });
      const row = page.locator(`${tid(testIds.runs.row)}[data-run-id="${run.id}"]`);
      const status = row.locator(tid(testIds.runs.status));
      await status.waitFor({ timeout: 20_000 });
      // The row arrives before the run ends, then changes in place.
      const seen = new Set<string>();
      await waitFor(
        async () => {
          seen.add((await status.getAttribute('data-status')) ?? '');
          return seen.has('succeeded');
        },
        'the new run to show as succeeded',
        30_000,
        50,
      );
      expect([...seen].some((s) => s === 'queued' || s === 'running')).toBe(true);
      // Nothing re-read the list: the first load was the only GET, on one feed connection.
      expect(listRequests).toHaveLength(1);
      expect(feedRequests).toHaveLength(1);
    } finally {
      await context.close();
    }
  }, 60_000);

  for (const viewport of [DESKTOP, PHONE]) {
    it(`has no serious accessibility violation at ${viewport.width} px`, async () => {
      const { context, page } = await openPage(browser, `${dash.url}/runs`, viewport);
      try {
        await page.locator(tid(testIds.runs.row)).first().waitFor({ timeout: 20_000 });
        expect(await axeScan(page)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);
  }
});
