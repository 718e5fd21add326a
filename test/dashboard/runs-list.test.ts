/**
 * The runs list in a real browser against a real server: seeded runs render with their
 * status, filters live in the URL, a status change shows without a reload, and the page has
 * no serious accessibility violation at desktop or phone width.
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

  it('shows a status change without a reload', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs`);
    try {
      await page.locator(tid(testIds.runs.list)).waitFor({ timeout: 20_000 });
      const run = await dash.server.api.createRun({ command: ['sh', '-c', 'sleep 1; echo done'] });
      const status = page
        .locator(`${tid(testIds.runs.row)}[data-run-id="${run.id}"]`)
        .locator(tid(testIds.runs.status));
      await status.waitFor({ timeout: 20_000 });
      await waitFor(
        async () => (await status.getAttribute('data-status')) === 'succeeded',
        'the new run to show as succeeded',
        30_000,
        100,
      );
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
