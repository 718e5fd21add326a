import { join } from 'node:path';
import { it } from 'vitest';
import { ROOT } from '../e2e/helpers.js';
import { cleanupDashboard, launchBrowser, startDashboard, sleep, PHONE } from './harness.js';

it('debug', async () => {
  const dash = await startDashboard({
    env: { PATCHBAY_AGENT_CURSOR_BIN: join(ROOT, 'test/fixtures/agents/fake-cursor.sh') },
  });
  const browser = await launchBrowser();
  const run = await dash.server.api.createRun({ agent: 'cursor', prompt: 'list', wait: true });
  await dash.server.api.createRun({
    command: [
      'sh',
      '-c',
      'printf "\\033[31mred\\033[0m \\033[1;32mgreen\\033[0m \\033[33myellow\\033[0m plain a very long line that goes on and on and on to show how wrapping behaves on a narrow screen\\n"; echo err >&2; exit 2',
    ],
    wait: true,
  });
  const ctx = await browser.newContext({ viewport: PHONE, colorScheme: 'dark' });
  const page = await ctx.newPage();
  await page.goto(`${dash.url}/runs/${run.id}?tab=events`);
  await sleep(2000);
  await page.locator('[data-testid="events-toggle"]').nth(3).click();
  await sleep(500);
  await page.screenshot({ path: '/tmp/dash-4.png', fullPage: true });
  await page.goto(`${dash.url}/runs`);
  await sleep(2000);
  await page.screenshot({ path: '/tmp/dash-5.png', fullPage: true });
  await page.locator('[data-testid="runs-row"] a').nth(0).click();
  await sleep(1500);
  await page.screenshot({ path: '/tmp/dash-6.png', fullPage: true });
  await cleanupDashboard(browser);
}, 60_000);
