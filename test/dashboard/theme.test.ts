/**
 * Light, dark and system themes in a real browser: the system choice follows the browser's
 * colour scheme (and its change, without a reload), an explicit choice wins over it and is
 * kept across a reload. The stylesheet has one dark palette (data-theme="dark"): theme.ts
 * resolves the system choice to it.
 */
import type { Browser, Page } from 'playwright-core';
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

const LIGHT_BG = 'rgb(255, 255, 255)';
const DARK_BG = 'rgb(13, 17, 23)';

beforeAll(async () => {
  [dash, browser] = await Promise.all([startDashboard(), launchBrowser()]);
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

// Strings, evaluated in the page: this program has no DOM types.
const background = async (page: Page): Promise<string> =>
  (await page.evaluate('getComputedStyle(document.body).backgroundColor')) as string;

async function untilBackground(page: Page, colour: string, what: string): Promise<void> {
  await waitFor(async () => (await background(page)) === colour, what, 10_000, 50);
}

async function open(scheme: 'light' | 'dark'): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: scheme });
  const page = await context.newPage();
  await page.goto(`${dash.url}/runs`);
  await page.locator(tid(testIds.app.themeSelect)).waitFor({ timeout: 20_000 });
  return { page, close: () => context.close() };
}

describe('themes', () => {
  it('follows the system scheme, and its change, while the choice is system', async () => {
    const { page, close } = await open('dark');
    try {
      expect(await page.locator(tid(testIds.app.themeSelect)).inputValue()).toBe('system');
      await untilBackground(page, DARK_BG, 'the dark palette under a dark system');
      await page.emulateMedia({ colorScheme: 'light' });
      await untilBackground(page, LIGHT_BG, 'the light palette once the system turns light');
      await page.emulateMedia({ colorScheme: 'dark' });
      await untilBackground(page, DARK_BG, 'the dark palette again');
    } finally {
      await close();
    }
  }, 60_000);

  it('lets an explicit choice win over the system, and keeps it across a reload', async () => {
    const { page, close } = await open('light');
    try {
      await untilBackground(page, LIGHT_BG, 'the light palette under a light system');
      await page.locator(tid(testIds.app.themeSelect)).selectOption('dark');
      await untilBackground(page, DARK_BG, 'the dark palette once chosen');
      await page.reload();
      await page.locator(tid(testIds.app.themeSelect)).waitFor({ timeout: 20_000 });
      expect(await page.locator(tid(testIds.app.themeSelect)).inputValue()).toBe('dark');
      await untilBackground(page, DARK_BG, 'the dark palette after a reload');
      // The system changing does not override an explicit choice.
      await page.emulateMedia({ colorScheme: 'light' });
      await waitFor(
        async () =>
          (await page.evaluate("matchMedia('(prefers-color-scheme: light)').matches")) === true,
        'the page to see the light system',
      );
      // Two frames: the media change event has been dispatched and styles recomputed.
      await page.evaluate(
        'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))',
      );
      expect(await background(page)).toBe(DARK_BG);

      await page.emulateMedia({ colorScheme: 'dark' });
      await page.locator(tid(testIds.app.themeSelect)).selectOption('light');
      await untilBackground(page, LIGHT_BG, 'the light palette under a dark system');
      await page.locator(tid(testIds.app.themeSelect)).selectOption('system');
      await untilBackground(page, DARK_BG, 'back to the system (dark)');
    } finally {
      await close();
    }
  }, 60_000);
});
