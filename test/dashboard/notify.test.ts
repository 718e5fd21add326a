/**
 * Browser notifications when a run waits (paused) or ends, from the live feed, on a page that
 * is not the run's: the user turns them on (a run page's checkbox, permission granted), hides
 * the tab, and runs started through the API notify as they pause and end. The page's
 * `Notification` is wrapped to record what it was asked to show (it still shows it), and the
 * tab is made to report itself hidden (headless Chromium is always "visible").
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDashboard,
  DESKTOP,
  launchBrowser,
  startDashboard,
  testIds,
  tid,
  waitFor,
  type Dashboard,
} from './harness.js';

let dash: Dashboard;
let browser: Browser;

beforeAll(async () => {
  [dash, browser] = await Promise.all([startDashboard(), launchBrowser()]);
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

const RECORDER = `
  window.__shown = [];
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
    }
  }
  window.Notification = Recorded;
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get() { return window.__hidden ? 'hidden' : 'visible'; },
  });
`;

interface Shown {
  title: string;
  body: string;
  tag: string;
}

describe('notifications', () => {
  it('tells when a run is paused and when it ends, from any page', async () => {
    const seed = await dash.server.api.createRun({ command: ['sh', '-c', 'echo seed'] });
    await dash.server.api.waitForStatus(seed.id, undefined, 30_000);
    const context = await browser.newContext({ viewport: DESKTOP });
    await context.grantPermissions(['notifications'], { origin: dash.url });
    await context.addInitScript(RECORDER);
    const page = await context.newPage();
    try {
      await page.goto(`${dash.url}/runs/${seed.id}`);
      const toggle = page.locator(tid(testIds.app.notifyToggle));
      await toggle.check({ timeout: 20_000 });
      await waitFor(
        async () => (await page.evaluate("localStorage.getItem('patchbay.notify')")) === '1',
        'notifications to be on',
      );
      // Another page: the run page's own stream is not what notifies.
      await page.goto(`${dash.url}/runs`);
      await waitFor(
        async () =>
          (await page.locator(tid(testIds.app.liveState)).getAttribute('data-state')) === 'live',
        'the live feed',
        20_000,
      );
      await page.evaluate('window.__hidden = true');

      const run = await dash.server.api.createRun({
        command: ['sh', '-c', 'for i in $(seq 1 300); do sleep 0.1; done'],
      });
      await dash.server.api.waitForProcess(run.id, 30_000);
      await dash.server.api.request('POST', `/v1/runs/${run.id}/pause`);
      const shown = async (): Promise<Shown[]> =>
        (await page.evaluate('window.__shown')) as Shown[];
      await waitFor(
        async () => (await shown()).some((n) => n.tag === `${run.id}:paused`),
        'a notification that the run waits',
        20_000,
      );
      await dash.server.api.request('POST', `/v1/runs/${run.id}/cancel`);
      await waitFor(
        async () => (await shown()).some((n) => n.tag === `${run.id}:cancelled`),
        'a notification that the run ended',
        20_000,
      );
      const mine = (await shown()).filter((n) => n.body === run.id);
      expect(mine.map((n) => n.title)).toEqual(['Run is paused', 'Run cancelled']);

      // A visible tab is not notified: the user is looking.
      await page.evaluate('window.__hidden = false');
      const quiet = await dash.server.api.createRun({ command: ['sh', '-c', 'echo quiet'] });
      await dash.server.api.waitForStatus(quiet.id, undefined, 30_000);
      await page
        .locator(`${tid(testIds.runs.row)}[data-run-id="${quiet.id}"] ${tid(testIds.runs.status)}`)
        .and(page.locator('[data-status="succeeded"]'))
        .waitFor({ timeout: 20_000 });
      expect((await shown()).some((n) => n.body === quiet.id)).toBe(false);
    } finally {
      await context.close();
    }
  }, 90_000);
});
