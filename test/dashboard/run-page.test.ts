/**
 * The run page in a real browser against a real server: a run started from the UI streams its
 * log live; pause, resume and cancel from the UI change the real process; search over the
 * whole log links to `?line=` permalinks; the page passes axe at desktop and phone widths.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
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
  trackPids,
  waitFor,
  type Dashboard,
} from './harness.js';

let dash: Dashboard;
let browser: Browser;

beforeAll(async () => {
  [dash, browser] = await Promise.all([startDashboard(), launchBrowser()]);
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

/** Process state letter from /proc (R, S, T for stopped, …), or null when gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

const statusOf = (page: Page): Promise<string | null> =>
  page.locator(tid(testIds.run.status)).getAttribute('data-status');

async function waitStatus(page: Page, status: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await statusOf(page)) === status, `status ${status}`, timeoutMs, 100);
}

describe('run page', () => {
  it('starts a run from the UI and shows its log as it arrives', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs`);
    try {
      await page.locator(tid(testIds.runs.newRun)).click();
      await page
        .locator(tid(testIds.runs.newCommand))
        .fill('i=1; while [ $i -le 60 ]; do echo "step $i"; i=$((i+1)); sleep 0.05; done');
      await page.locator(tid(testIds.runs.newSubmit)).click();
      await page.waitForURL(/\/runs\/[^/?]+$/, { timeout: 20_000 });
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
      // Lines arrive while the run is still running, and the stream says it is live.
      const count = page.locator(tid(testIds.log.count));
      const seenWhileRunning = await waitFor(
        async () => {
          const n = Number(await count.getAttribute('data-count'));
          const run = await dash.server.api.getRun(id);
          return n > 0 && run.status === 'running' ? n : null;
        },
        'log lines while the run runs',
        30_000,
        50,
      );
      expect(seenWhileRunning).toBeLessThan(60);
      expect(['live', 'ended']).toContain(
        await page.locator(tid(testIds.app.streamState)).getAttribute('data-state'),
      );
      await waitStatus(page, 'succeeded');
      await waitFor(
        async () => (await count.getAttribute('data-count')) === '60',
        'all 60 lines',
        20_000,
      );
      // Following the end: the last line is on screen.
      await page.locator(`${tid(testIds.log.row)}[data-line="60"]`).waitFor({ timeout: 10_000 });
      await expect
        .poll(() => page.locator(`${tid(testIds.log.row)}[data-line="60"]`).innerText(), {
          timeout: 20_000,
        })
        .toContain('step 60');
      await waitFor(
        async () =>
          (await page.locator(tid(testIds.app.streamState)).getAttribute('data-state')) === 'ended',
        'the stream to end',
        20_000,
      );
    } finally {
      await context.close();
    }
  }, 90_000);

  it('pauses, resumes and cancels the real process from the UI', async () => {
    const run = await dash.server.api.createRun({
      command: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'],
    });
    const pid = await dash.server.api.waitForProcess(run.id, 30_000);
    trackPids(pid);
    const { context, page } = await openPage(browser, `${dash.url}/runs/${run.id}`);
    try {
      await waitStatus(page, 'running');
      await page.locator(tid(testIds.run.pause)).click();
      await waitStatus(page, 'paused');
      await waitFor(() => procState(pid) === 'T', 'the process to be stopped', 15_000, 50);

      // Keyboard: r resumes.
      await page.locator('h1').click();
      await page.keyboard.press('r');
      await waitStatus(page, 'running');
      await waitFor(
        () => procState(pid) !== 'T' && procState(pid) !== null,
        'the process to run again',
        15_000,
        50,
      );

      // Cancel asks first; dismissing keeps the run.
      await page.locator(tid(testIds.run.cancel)).click();
      const dialog = page.locator(tid(testIds.run.confirm));
      await dialog.waitFor({ state: 'visible' });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect((await dash.server.api.getRun(run.id)).status).toBe('running');

      await page.keyboard.press('c');
      await dialog.waitFor({ state: 'visible' });
      await page.locator(tid(testIds.run.confirmYes)).click();
      await waitStatus(page, 'cancelled');
      await waitFor(() => procState(pid) === null, 'the process to be gone', 15_000, 50);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('searches the whole log and opens a line by its permalink', async () => {
    const run = await dash.server.api.createRun({
      command: [
        'sh',
        '-c',
        'i=1; while [ $i -le 3000 ]; do echo "row $i"; i=$((i+1)); done; echo needle-here; echo after',
      ],
    });
    await dash.server.api.waitForStatus(run.id, undefined, 30_000);
    const { context, page } = await openPage(browser, `${dash.url}/runs/${run.id}`);
    try {
      const count = page.locator(tid(testIds.log.count));
      await waitFor(
        async () => (await count.getAttribute('data-count')) === '3002',
        '3002 lines',
        20_000,
      );
      // Bounded DOM: thousands of lines, a few dozen rows.
      expect(await page.locator(tid(testIds.log.row)).count()).toBeLessThan(300);

      await page.locator(tid(testIds.log.search)).fill('row 1500');
      await page.locator(tid(testIds.log.search)).press('Enter');
      await page.waitForURL(/q=row\+1500|q=row%201500/);
      const hit = page.locator(`${tid(testIds.log.searchResult)}[data-line="1500"]`);
      await hit.waitFor({ timeout: 20_000 });
      await hit.click();
      await page.waitForURL(/line=1500/);
      const row = page.locator(`${tid(testIds.log.row)}[data-line="1500"]`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.getAttribute('class')).toContain('active');
      await page.locator(tid(testIds.log.jumpToLive)).waitFor();

      // The permalink alone opens the same line.
      const linked = await context.newPage();
      await linked.goto(`${dash.url}/runs/${run.id}?line=3001`);
      await linked
        .locator(`${tid(testIds.log.row)}[data-line="3001"]`)
        .waitFor({ timeout: 20_000 });
      expect(
        await linked.locator(`${tid(testIds.log.row)}[data-line="3001"]`).innerText(),
      ).toContain('needle-here');

      // Wrap is a URL setting too.
      await page.locator(tid(testIds.log.wrap)).check();
      await page.waitForURL(/wrap=1/);
    } finally {
      await context.close();
    }
  }, 90_000);

  for (const viewport of [DESKTOP, PHONE]) {
    it(`has no serious accessibility violation at ${viewport.width} px`, async () => {
      const run = await dash.server.api.createRun({
        command: [
          'sh',
          '-c',
          'printf "\\033[31mred\\033[0m \\033[1;32mgreen\\033[0m plain\\n"; echo done >&2',
        ],
      });
      await dash.server.api.waitForStatus(run.id, undefined, 30_000);
      const { context, page } = await openPage(browser, `${dash.url}/runs/${run.id}`, viewport);
      try {
        await page.locator(`${tid(testIds.log.row)}[data-line="2"]`).waitFor({ timeout: 20_000 });
        expect(await axeScan(page)).toEqual([]);
        await page.locator(`${tid(testIds.run.tab)}[data-tab="events"]`).click();
        await page.locator(tid(testIds.events.list)).waitFor({ timeout: 10_000 });
        await page.locator(tid(testIds.events.toggle)).first().click();
        expect(await axeScan(page)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);
  }
});
