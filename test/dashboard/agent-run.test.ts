/**
 * A coding agent's run on a registered repository, in a real browser: the events tab pairs
 * each tool call with its result, thinking starts collapsed, the diff tab shows the changed
 * files, and the follow-up box of a conversation starts its next run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, ROOT, type Json } from '../e2e/helpers.js';
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

const FAKE_CURSOR = join(ROOT, 'test', 'fixtures', 'agents', 'fake-cursor.sh');

let dash: Dashboard;
let browser: Browser;
let conversationId: string;
let firstRunId: string;

function fixtureRepo(dir: string): string {
  const path = join(dir, 'workspaces', 'app');
  mkdirSync(join(path, 'src'), { recursive: true });
  writeFileSync(join(path, 'README.md'), '# fixture\n');
  writeFileSync(join(path, 'src', 'index.ts'), 'export const answer = 42;\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

beforeAll(async () => {
  [dash, browser] = await Promise.all([
    startDashboard({ env: { PATCHBAY_AGENT_CURSOR_BIN: FAKE_CURSOR } }),
    launchBrowser(),
  ]);
  const api = dash.server.api;
  const repo = await api.request('POST', '/v1/repos', { path: fixtureRepo(dash.server.dataDir) });
  expect(repo.status, repo.text).toBe(201);
  const conv = await api.request('POST', '/v1/conversations', {
    agent: 'cursor',
    repo: (repo.body as Json).id,
    title: 'dashboard',
  });
  expect(conv.status, conv.text).toBe(201);
  conversationId = (conv.body as Json).id;
  const first = await api.request('POST', `/v1/conversations/${conversationId}/messages`, {
    prompt: 'edit one',
    wait: true,
  });
  expect(first.body?.status, first.text).toBe('succeeded');
  firstRunId = (first.body as Json).id;
}, 120_000);

afterAll(() => cleanupDashboard(browser), 30_000);

describe('an agent run', () => {
  it('pairs each tool call with its result in one row', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs/${firstRunId}?tab=events`);
    try {
      await page.locator(tid(testIds.events.list)).waitFor({ timeout: 20_000 });
      const tools = page.locator(`${tid(testIds.events.row)}[data-type="tool_call"]`);
      await tools.first().waitFor();
      // Two calls, two results: two rows, and no row of a bare result.
      expect(await tools.count()).toBe(2);
      expect(
        await page.locator(`${tid(testIds.events.row)}[data-type="tool_result"]`).count(),
      ).toBe(0);
      // Thinking is collapsed; a tool row opens to its input and result.
      const thinking = page.locator(`${tid(testIds.events.row)}[data-type="thinking"]`).first();
      expect(await thinking.locator(tid(testIds.events.toggle)).getAttribute('aria-expanded')).toBe(
        'false',
      );
      await tools.first().locator(tid(testIds.events.toggle)).click();
      const payload = tools.first().locator(tid(testIds.events.payload));
      await payload.waitFor();
      const text = await payload.innerText();
      expect(text).toContain('Input');
      expect(text).toContain('Result');
      expect(text).toContain('README.md');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows the diff per file, as its own chunk', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs/${firstRunId}`);
    try {
      await page.locator(tid(testIds.log.view)).waitFor({ timeout: 20_000 });
      const chunks: string[] = [];
      page.on('request', (r) => chunks.push(r.url()));
      await page.locator(`${tid(testIds.run.tab)}[data-tab="diff"]`).click();
      await page.waitForURL(/tab=diff/);
      await page.locator(tid(testIds.diff.view)).waitFor({ timeout: 20_000 });
      expect(chunks.some((u) => /\/assets\/diff-view-[^/]+\.js$/.test(u))).toBe(true);
      const readme = page.locator(`${tid(testIds.diff.file)}[data-path="README.md"]`);
      await readme.waitFor();
      await expect
        .poll(() => readme.innerText(), { timeout: 20_000 })
        .toContain('+edited by fake-cursor');
      await readme.locator(tid(testIds.diff.fileToggle)).click();
      expect(await readme.locator(tid(testIds.diff.fileToggle)).getAttribute('aria-expanded')).toBe(
        'false',
      );
      await page.locator(`${tid(testIds.diff.file)}[data-path="AGENT_NOTES.md"]`).waitFor();
    } finally {
      await context.close();
    }
  }, 60_000);

  it('sends a follow-up that starts the conversation’s next run', async () => {
    const { context, page } = await openPage(browser, `${dash.url}/runs/${firstRunId}`);
    try {
      await page.locator(tid(testIds.run.followUp)).fill('edit two');
      await page.locator(tid(testIds.run.followUpSend)).click();
      await waitFor(
        () => !page.url().includes(firstRunId) && /\/runs\/[^/?]+/.test(page.url()),
        'the next run to open',
        20_000,
      );
      const nextId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
      const next = await dash.server.api.waitForStatus(nextId, undefined, 60_000);
      expect(next.status).toBe('succeeded');
      expect(next.conversationId).toBe(conversationId);
      expect(next.prompt).toBe('edit two');
      await waitFor(
        async () =>
          (await page.locator(tid(testIds.run.status)).getAttribute('data-status')) === 'succeeded',
        'the page to show the run succeeded',
        30_000,
      );
    } finally {
      await context.close();
    }
  }, 90_000);

  for (const viewport of [DESKTOP, PHONE]) {
    it(`has no serious accessibility violation on the diff at ${viewport.width} px`, async () => {
      const url = `${dash.url}/runs/${firstRunId}?tab=diff`;
      const { context, page } = await openPage(browser, url, viewport);
      try {
        await page.locator(tid(testIds.diff.view)).waitFor({ timeout: 20_000 });
        expect(await axeScan(page)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);
  }
});
