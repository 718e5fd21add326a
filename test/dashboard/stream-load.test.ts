/**
 * A run that streams 10,000 events while the page is open: the number of log rows in the DOM
 * stays bounded, every line arrives, and a text input keeps answering keystrokes quickly
 * (time from keydown to the next frame after the input event).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../e2e/helpers.js';
import {
  cleanupDashboard,
  launchBrowser,
  openPage,
  startDashboard,
  testIds,
  tid,
  waitFor,
  type Dashboard,
} from './harness.js';
import { MAX_DOM_ROWS } from './limits.js';

const FLOOD = join(ROOT, 'test', 'dashboard', 'fixtures', 'flood-agent.sh');
const LINES = 10_000;

let dash: Dashboard;
let browser: Browser;

beforeAll(async () => {
  [dash, browser] = await Promise.all([
    startDashboard({ env: { PATCHBAY_AGENT_CURSOR_BIN: FLOOD } }),
    launchBrowser(),
  ]);
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

/** Installed in the page: latency of each keystroke in the search box, and the most rows seen. */
const PROBE = `
  window.__probe = { latencies: [], maxRows: 0 };
  const input = document.querySelector('[data-testid="${testIds.log.search}"]');
  let t0 = 0;
  input.addEventListener('keydown', (e) => { t0 = e.timeStamp; });
  input.addEventListener('input', () => {
    const start = t0;
    requestAnimationFrame(() => window.__probe.latencies.push(performance.now() - start));
  });
  const count = () => {
    const n = document.querySelectorAll('[data-testid="${testIds.log.row}"]').length;
    if (n > window.__probe.maxRows) window.__probe.maxRows = n;
    requestAnimationFrame(count);
  };
  requestAnimationFrame(count);
`;

describe('a 10,000-event stream', () => {
  it('keeps the DOM bounded and the page responsive', async () => {
    const go = join(tempDir(), 'go');
    const run = await dash.server.api.createRun({
      agent: 'cursor',
      prompt: 'flood',
      env: { FLOOD_GOFILE: go },
    });
    const { context, page } = await openPage(browser, `${dash.url}/runs/${run.id}`);
    try {
      await page.locator(tid(testIds.log.search)).waitFor({ timeout: 20_000 });
      await waitFor(
        async () =>
          (await page.locator(tid(testIds.app.streamState)).getAttribute('data-state')) === 'live',
        'the stream to be live',
        20_000,
      );
      await page.evaluate(PROBE);
      writeFileSync(go, '');
      const count = page.locator(tid(testIds.log.count));
      // Type while the flood arrives.
      const input = page.locator(tid(testIds.log.search));
      await input.click();
      await waitFor(
        async () => Number(await count.getAttribute('data-count')) > 500,
        'the flood to start',
        30_000,
        20,
      );
      for (const ch of 'responsive typing during the flood') await page.keyboard.type(ch);
      await waitFor(
        async () => Number(await count.getAttribute('data-count')) >= LINES,
        `${LINES} lines`,
        60_000,
        100,
      );
      expect(await input.inputValue()).toBe('responsive typing during the flood');
      const probe = (await page.evaluate('window.__probe')) as {
        latencies: number[];
        maxRows: number;
      };
      const sorted = [...probe.latencies].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      expect(sorted.length).toBeGreaterThanOrEqual(30);
      expect(median, `keystroke latencies (ms): ${sorted.map(Math.round).join(' ')}`).toBeLessThan(
        100,
      );
      expect(probe.maxRows).toBeGreaterThan(0);
      expect(probe.maxRows).toBeLessThanOrEqual(MAX_DOM_ROWS);
      // All 10,000 events arrived, and the run ended.
      expect((await dash.server.api.events(run.id)).length).toBeGreaterThan(LINES);
      await waitFor(
        async () =>
          (await page.locator(tid(testIds.app.streamState)).getAttribute('data-state')) === 'ended',
        'the stream to end',
        30_000,
      );
    } finally {
      await context.close();
    }
  }, 150_000);
});
