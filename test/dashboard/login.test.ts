/**
 * Login and logout in a real browser, with PATCHBAY_API_TOKENS set: the app sends a visitor
 * without a session to the login page, a wrong token is refused with the server's message,
 * the right one opens the page the visitor asked for (cookie session, so the live stream works
 * too), and logging out ends the session. Needs the server's browser login
 * (`GET /v1/auth/session`); skipped, and saying so, on a server without it.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const TOKEN = 'dashboard-test-token-0123456789';

let dash: Dashboard;
let browser: Browser;
let hasLogin = false;

beforeAll(async () => {
  [dash, browser] = await Promise.all([
    startDashboard({ env: { PATCHBAY_API_TOKENS: TOKEN }, token: TOKEN }),
    launchBrowser(),
  ]);
  const res = await fetch(`${dash.server.url}/v1/auth/session`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  hasLogin = res.status !== 404;
  if (!hasLogin) process.stderr.write('login.test.ts: the server has no /v1/auth/session\n');
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

describe('login', () => {
  it('sends a visitor without a session to the login page, and back after login', async (ctx) => {
    if (!hasLogin) ctx.skip();
    const run = await dash.server.api.createRun({ command: ['sh', '-c', 'echo behind-login'] });
    await dash.server.api.waitForStatus(run.id, undefined, 30_000);
    const { context, page } = await openPage(browser, `${dash.url}/runs/${run.id}`);
    try {
      await page.locator(tid(testIds.login.form)).waitFor({ timeout: 20_000 });
      expect(page.url()).toContain('/login?next=');

      await page.locator(tid(testIds.login.token)).fill('not-the-token');
      await page.locator(tid(testIds.login.submit)).click();
      await page.locator(tid(testIds.login.error)).waitFor({ timeout: 10_000 });

      await page.locator(tid(testIds.login.token)).fill(TOKEN);
      await page.locator(tid(testIds.login.submit)).click();
      await page.waitForURL(new RegExp(`/runs/${run.id}$`), { timeout: 20_000 });
      const row = page.locator(`${tid(testIds.log.row)}[data-line="1"]`);
      await row.waitFor({ timeout: 20_000 });
      await expect.poll(() => row.innerText(), { timeout: 20_000 }).toContain('behind-login');
      const cookies = await context.cookies();
      expect(cookies.some((c) => c.httpOnly && c.sameSite === 'Strict')).toBe(true);

      await page.locator(tid(testIds.app.logout)).click();
      await page.locator(tid(testIds.login.form)).waitFor({ timeout: 20_000 });
      await waitFor(
        async () => {
          const res = await context.request.get(`${dash.url}/v1/runs/${run.id}`);
          return res.status() === 401;
        },
        'the API to refuse the browser after logout',
        10_000,
      );
    } finally {
      await context.close();
    }
  }, 90_000);
});
