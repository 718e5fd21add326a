/**
 * Every primary action by keyboard alone, in a real browser: Tab reaches it (with a visible
 * focus ring: `:focus-visible` and a drawn outline or shadow) and Enter, a typed letter or
 * typing operates it. Start a run, pause, resume and cancel it (the confirm dialog too), the
 * list's filters, the main navigation, a conversation's follow-up, login and logout. No
 * mouse: no click() anywhere in this file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, ROOT } from '../e2e/helpers.js';
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

const FAKE_CURSOR = join(ROOT, 'test', 'fixtures', 'agents', 'fake-cursor.sh');
const TOKEN = 'keyboard-test-token-0123456789';

let dash: Dashboard;
let secured: Dashboard;
let browser: Browser;
let conversationRunId: string;

type Json = Record<string, unknown>;

beforeAll(async () => {
  [dash, secured, browser] = await Promise.all([
    startDashboard({ env: { PATCHBAY_AGENT_CURSOR_BIN: FAKE_CURSOR } }),
    startDashboard({ env: { PATCHBAY_API_TOKENS: TOKEN }, token: TOKEN }),
    launchBrowser(),
  ]);
  const api = dash.server.api;
  const path = join(dash.server.dataDir, 'workspaces', 'app');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# fixture\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  const repo = await api.request('POST', '/v1/repos', { path });
  expect(repo.status, repo.text).toBe(201);
  const conv = await api.request('POST', '/v1/conversations', {
    agent: 'cursor',
    repo: (repo.body as Json).id,
    title: 'keyboard',
  });
  expect(conv.status, conv.text).toBe(201);
  const first = await api.request(
    'POST',
    `/v1/conversations/${(conv.body as Json).id as string}/messages`,
    { prompt: 'edit one', wait: true },
  );
  expect(first.body?.status, first.text).toBe('succeeded');
  conversationRunId = (first.body as Json).id as string;
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

/** How the focused element shows its focus. */
async function focusRing(page: Page): Promise<{ visible: boolean; how: string }> {
  // Strings, evaluated in the page: this program has no DOM types.
  return (await page.evaluate(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { visible: false, how: 'nothing focused' };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    const shadow = style.boxShadow !== 'none';
    return {
      visible: el.matches(':focus-visible') && (outline || shadow),
      how: el.tagName + ' outline ' + style.outlineStyle + ' ' + style.outlineWidth + ', shadow ' + style.boxShadow,
    };
  })()`)) as { visible: boolean; how: string };
}

/** A description of the focused element (tag, id, class, text). */
const focused = async (page: Page): Promise<string> =>
  (await page.evaluate(`(() => {
    const el = document.activeElement;
    return el ? el.tagName + '#' + el.id + '.' + el.className + ':' + (el.textContent ?? '').slice(0, 30) : '';
  })()`)) as string;

/**
 * Presses Tab until the focus is on `selector` (at most `max` times), and checks that the
 * focus is visible there. Answers the number of presses.
 */
async function tabTo(page: Page, selector: string, max = 80): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    const there = (await page.evaluate(
      `document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`,
    )) as boolean;
    if (there) {
      const ring = await focusRing(page);
      expect(ring.visible, `focus on ${selector} is not visible: ${ring.how}`).toBe(true);
      return i;
    }
  }
  throw new Error(`${max} presses of Tab never reached ${selector}`);
}

const statusOf = (page: Page): Promise<string | null> =>
  page.locator(tid(testIds.run.status)).getAttribute('data-status');

async function untilStatus(page: Page, status: string): Promise<void> {
  await waitFor(async () => (await statusOf(page)) === status, `the run to be ${status}`, 30_000);
}

describe('keyboard only', () => {
  it('starts a run, pauses, resumes and cancels it (confirm included)', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs`);
    try {
      await page.locator(tid(testIds.runs.list)).waitFor({ timeout: 20_000 });
      // The first stop is the skip link, to the page's content.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.className')).toBe('skip');
      expect((await focusRing(page)).visible).toBe(true);

      await tabTo(page, tid(testIds.runs.newRun));
      await page.keyboard.press('Enter');
      await tabTo(page, tid(testIds.runs.newCommand));
      await page.keyboard.type('for i in $(seq 1 300); do echo tick $i; sleep 0.1; done');
      await tabTo(page, tid(testIds.runs.newSubmit));
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/runs\/run_[^/?]+/, { timeout: 20_000 });
      await untilStatus(page, 'running');

      await tabTo(page, tid(testIds.run.pause));
      await page.keyboard.press('Enter');
      await untilStatus(page, 'paused');
      await tabTo(page, tid(testIds.run.resume));
      await page.keyboard.press('Enter');
      await untilStatus(page, 'running');

      await tabTo(page, tid(testIds.run.cancel));
      await page.keyboard.press('Enter');
      const dialog = page.locator(tid(testIds.run.confirm));
      await waitFor(async () => (await dialog.getAttribute('open')) !== null, 'the confirm');
      // The safe choice has the focus; Tab stays inside the modal dialog.
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Keep running');
      await tabTo(page, tid(testIds.run.confirmYes), 3);
      await page.keyboard.press('Enter');
      await untilStatus(page, 'cancelled');
    } finally {
      await context.close();
    }
  }, 90_000);

  it('operates the list filters and the main navigation', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs`);
    try {
      await page.locator(tid(testIds.runs.list)).waitFor({ timeout: 20_000 });
      await tabTo(page, tid(testIds.runs.filterStatus));
      // A closed <select> takes typed letters: "f" picks "failed".
      await page.keyboard.press('f');
      await page.waitForURL(/status=failed/, { timeout: 10_000 });
      await tabTo(page, tid(testIds.runs.filterRepo));
      await page.keyboard.type('repo_none');
      await page.keyboard.press('Enter');
      await page.waitForURL(/repo=repo_none/, { timeout: 10_000 });
      await page.locator(tid(testIds.runs.empty)).waitFor({ timeout: 10_000 });

      await page.keyboard.press('Shift+Tab'); // leaves the page's content for the top
      await tabTo(page, `${tid(testIds.app.navLink)}[href="/conversations"]`);
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/conversations$/, { timeout: 10_000 });
    } finally {
      await context.close();
    }
  }, 60_000);

  it("sends a conversation's follow-up", async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs/${conversationRunId}`);
    try {
      await untilStatus(page, 'succeeded');
      await tabTo(page, tid(testIds.run.followUp));
      await page.keyboard.type('edit two');
      await tabTo(page, tid(testIds.run.followUpSend));
      await page.keyboard.press('Enter');
      await waitFor(
        () => !page.url().includes(conversationRunId) && /\/runs\/run_/.test(page.url()),
        'the next run to open',
        20_000,
      );
      await untilStatus(page, 'succeeded');
    } finally {
      await context.close();
    }
  }, 60_000);

  const pages: [string, () => string][] = [
    ...[
      '/runs',
      '/conversations',
      '/repos',
      '/optimizer',
      '/schedules',
      '/budgets',
      '/workers',
      '/settings',
    ].map((p): [string, () => string] => [p, () => p]),
    ['a run (log)', () => `/runs/${conversationRunId}`],
    ['a run (events)', () => `/runs/${conversationRunId}?tab=events`],
    ['a run (diff)', () => `/runs/${conversationRunId}?tab=diff`],
  ];
  for (const [name, pathOf] of pages) {
    it(`shows where the focus is at every Tab stop of ${name}`, async () => {
      const path = pathOf();
      const { context, page } = await openPage(browser, `${dash.url}${path}`);
      try {
        await page
          .locator(`${tid(testIds.app.main)} h1`)
          .first()
          .waitFor({ timeout: 20_000 });
        const seen: string[] = [];
        for (let i = 0; i < 150; i++) {
          await page.keyboard.press('Tab');
          const ring = await focusRing(page);
          const where = await focused(page);
          // Past the last stop (the focus leaves the page) or back at the first: all seen.
          if (where.startsWith('BODY') || (seen.length > 0 && where === seen[0])) break;
          seen.push(where);
          expect(ring.visible, `Tab stop ${i + 1} of ${path} (${where}): ${ring.how}`).toBe(true);
        }
        expect(seen.length).toBeGreaterThan(3);
      } finally {
        await context.close();
      }
    }, 60_000);
  }

  it('logs in and out', async () => {
    const { context, page } = await openPage(browser, `${secured.url}/runs`);
    try {
      await page.locator(tid(testIds.login.form)).waitFor({ timeout: 20_000 });
      await tabTo(page, tid(testIds.login.token));
      await page.keyboard.type(TOKEN);
      await page.keyboard.press('Enter');
      // Signed in: the Runs page (this server has no runs, so its empty state, not the table).
      await page.locator(tid(testIds.runs.newRun)).waitFor({ timeout: 20_000 });
      await tabTo(page, tid(testIds.app.logout));
      await page.keyboard.press('Enter');
      await page.locator(tid(testIds.login.form)).waitFor({ timeout: 20_000 });
    } finally {
      await context.close();
    }
  }, 60_000);
});
