/**
 * The inbox pages in a real browser against a real `patchbay serve` with the demo data of
 * `POST /v1/dev/seed` and local fake Gmail and GitHub providers (test/fixtures/inbox): the
 * inbox renders the seeded top three with their score breakdown and sources; triage by
 * keyboard changes the task (read back through the API) and undo restores it; a run starts
 * from a task and is linked; the graph draws the API's nodes and edges and keeps its filters
 * in the URL; connectors connect (OAuth in a new tab, a GitHub token) and "test all" shows
 * steps as they arrive; no page has a serious or critical axe violation or a page-wide
 * horizontal scroll at 1280 or 360 px, in light and dark.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../fixtures/inbox/fake-github.js';
import { startFakeGmail, type FakeGmail } from '../fixtures/inbox/fake-gmail.js';
import {
  axeScan,
  cleanupDashboard,
  DESKTOP,
  launchBrowser,
  PHONE,
  startDashboard,
  testIds,
  tid,
  waitFor,
  type Dashboard,
} from './harness.js';
import { startGate, type Gate } from './inbox-gate.js';
import { AGENT_BINS } from './seed-pages.js';

const GITHUB_TOKEN = 'ghp_dashboard_inbox_test_token';
let dash: Dashboard;
let browser: Browser;
let gmail: FakeGmail;
let github: FakeGithub;
let gate: Gate;

interface Task {
  id: string;
  title: string;
  state: string;
  score: number;
  runId: string | null;
  snoozedUntil: string | null;
  horizon: string;
  horizonOverride: string | null;
}

beforeAll(async () => {
  gmail = await startFakeGmail({ user: 'dev@example.com' });
  github = await startFakeGithub({
    login: 'dev',
    token: { value: GITHUB_TOKEN, scopes: ['repo', 'read:user'] },
  });
  gate = await startGate(github.url);
  const apps = {
    gmail: {
      clientId: 'gmail-client',
      clientSecret: 'gmail-secret',
      apiBaseUrl: gmail.url,
      authorizeUrl: `${gmail.url}/o/oauth2/v2/auth`,
      tokenUrl: `${gmail.url}/token`,
    },
    github: {
      clientId: 'Iv1.fakegithub',
      clientSecret: 'github-secret',
      apiBaseUrl: gate.url,
      authorizeUrl: `${gate.url}/login/oauth/authorize`,
      tokenUrl: `${gate.url}/login/oauth/access_token`,
    },
  };
  [dash, browser] = await Promise.all([
    startDashboard({
      env: {
        ...AGENT_BINS,
        PATCHBAY_INBOX_DEV_SEED: '1',
        PATCHBAY_INBOX_APPS: JSON.stringify(apps),
      },
    }),
    launchBrowser(),
  ]);
  const seeded = await dash.server.api.request('POST', '/v1/dev/seed');
  expect(seeded.status).toBe(201);
}, 120_000);

afterAll(async () => {
  gate?.open();
  await cleanupDashboard(browser);
  await Promise.all([gate?.stop(), gmail?.close(), github?.close()]);
}, 30_000);

async function apiJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await dash.server.api.request(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body as T;
}
const getTask = (id: string) => apiJson<Task>('GET', `/v1/tasks/${id}`);

async function visit(
  path: string,
  body: (page: Page) => Promise<void>,
  viewport: { width: number; height: number } = DESKTOP,
  options: { bypassCSP?: boolean; theme?: 'dark' | 'light' } = {},
): Promise<void> {
  const context = await browser.newContext({ viewport, bypassCSP: options.bypassCSP ?? false });
  const page = await context.newPage();
  try {
    if (options.theme) {
      await page.goto(`${dash.url}/`);
      await page.evaluate(`localStorage.setItem('patchbay.theme', '${options.theme}')`);
    }
    await page.goto(`${dash.url}${path}`);
    await body(page);
  } finally {
    await context.close();
  }
}

const cards = (page: Page) => page.locator(tid(testIds.inbox.task));
const selectedId = (page: Page) =>
  page.locator(`${tid(testIds.inbox.task)}[aria-current="true"]`).getAttribute('data-task-id');

describe('inbox', () => {
  it("renders today's top three from the API with sources, people, due and the score breakdown", async () => {
    const { tasks } = await apiJson<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=today&limit=3');
    expect(tasks.length).toBeGreaterThan(0);
    await visit('/inbox', async (page) => {
      const top = page.locator(`${tid(testIds.inbox.top)} ${tid(testIds.inbox.title)}`);
      await expect
        .poll(() => top.allInnerTexts(), { timeout: 20_000 })
        .toEqual(tasks.map((t) => t.title));
      const first = cards(page).first();
      const breakdown = first.locator(tid(testIds.inbox.breakdown));
      // Eight signals, each with its value and points, and the total.
      expect(await breakdown.locator('tbody tr').count()).toBe(8);
      expect(await breakdown.locator(tid(testIds.inbox.score)).innerText()).toBe(
        String(tasks[0]!.score),
      );
      // The incident: the Jira issue and the email about it are one task with both links.
      const incident = cards(page).filter({ hasText: 'PAY-142 Checkout fails' });
      const links = incident.locator(`${tid(testIds.inbox.sources)} a`);
      await expect.poll(() => links.count(), { timeout: 20_000 }).toBe(2);
      expect(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toContain(
        'https://acme.atlassian.net/browse/PAY-142',
      );
      const text = await incident.innerText();
      expect(text).toMatch(/Dana Ruiz \(reporter\)/);
      expect(text).toMatch(/due /);
      expect(await incident.locator('tr[data-signal="priority"]').innerText()).toMatch(
        /highest\s+\+25/,
      );
      // The shortcuts are listed on the page.
      expect(await page.locator(tid(testIds.inbox.shortcuts)).innerText()).toMatch(/j\s+next task/);
    });
  }, 60_000);

  it('triages by keyboard: accept, decline (confirmed), snooze, complete; undo restores each exactly', async () => {
    const { tasks } = await apiJson<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=week&limit=100');
    expect(tasks.length).toBeGreaterThan(1);
    await visit('/inbox?horizon=week', async (page) => {
      await expect.poll(() => cards(page).count(), { timeout: 20_000 }).toBe(tasks.length);
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(tasks[0]!.id);
      await page.keyboard.press('j');
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(tasks[1]!.id);
      await page.waitForURL(new RegExp(`task=${tasks[1]!.id}`));
      const target = tasks[1]!;
      const before = await getTask(target.id);

      await page.keyboard.press('a');
      await expect
        .poll(async () => (await getTask(target.id)).state, { timeout: 20_000 })
        .toBe('accepted');
      await page.locator(tid(testIds.inbox.status)).getByText('Accepted').waitFor();
      await page.keyboard.press('u');
      await expect
        .poll(async () => (await getTask(target.id)).state, { timeout: 20_000 })
        .toBe(before.state);

      // Decline is destructive: it asks first, Enter confirms.
      await page.locator(tid(testIds.inbox.status)).getByText('Undid').waitFor();
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(target.id);
      await page.keyboard.press('x');
      const dialog = page.locator(tid(testIds.inbox.dialog));
      await dialog.getByText('Decline this task?').waitFor({ timeout: 20_000 });
      expect((await getTask(target.id)).state).toBe(before.state);
      await page.keyboard.press('Enter');
      await expect
        .poll(async () => (await getTask(target.id)).state, { timeout: 20_000 })
        .toBe('declined');
      // The declined task left the week; undo brings it back.
      await expect.poll(() => cards(page).count(), { timeout: 20_000 }).toBe(tasks.length - 1);
      await page.keyboard.press('u');
      await expect
        .poll(async () => (await getTask(target.id)).state, { timeout: 20_000 })
        .toBe(before.state);
      await expect.poll(() => cards(page).count(), { timeout: 20_000 }).toBe(tasks.length);

      await page.locator(`${tid(testIds.inbox.task)}[data-task-id="${target.id}"]`).click({
        position: { x: 5, y: 5 },
      });
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(target.id);
      await page.keyboard.press('s');
      await page.locator(tid(testIds.inbox.snoozeUntil)).waitFor({ timeout: 20_000 });
      await page.keyboard.press('Enter');
      await expect
        .poll(async () => (await getTask(target.id)).state, { timeout: 20_000 })
        .toBe('snoozed');
      expect(Date.parse((await getTask(target.id)).snoozedUntil!)).toBeGreaterThan(Date.now());
      await page.keyboard.press('u');
      await expect
        .poll(async () => getTask(target.id), { timeout: 20_000 })
        .toMatchObject({
          state: before.state,
          snoozedUntil: before.snoozedUntil,
          horizon: before.horizon,
        });

      // Complete: done (in the past 7 days), and undo brings it back as it was.
      const card = page.locator(`${tid(testIds.inbox.task)}[data-task-id="${target.id}"]`);
      await card.waitFor({ timeout: 20_000 });
      await card.click({ position: { x: 5, y: 5 } });
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(target.id);
      await page.keyboard.press('c');
      await expect
        .poll(async () => (await getTask(target.id)).state, { timeout: 20_000 })
        .toBe('done');
      const past = await apiJson<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=past7d&limit=100');
      expect(past.tasks.map((t) => t.id)).toContain(target.id);
      await page.keyboard.press('u');
      await expect
        .poll(async () => getTask(target.id), { timeout: 20_000 })
        .toMatchObject({
          state: before.state,
          horizon: before.horizon,
        });
    });
  }, 120_000);

  it('moves a task to another horizon by keyboard (h then w; u undoes), one request for the list', async () => {
    const { tasks } = await apiJson<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=month&limit=100');
    expect(tasks.length).toBeGreaterThan(1);
    const target = tasks[tasks.length - 1]!;
    expect(await getTask(target.id)).toMatchObject({ horizon: 'month', horizonOverride: null });
    await visit(`/inbox?horizon=month&task=${target.id}`, async (page) => {
      // The list carries each task's sources: no GET /v1/tasks/:id per task (N+1).
      const gets: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'GET' && r.url().includes('/v1/tasks')) gets.push(r.url());
      });
      await page.reload();
      await expect.poll(() => cards(page).count(), { timeout: 20_000 }).toBe(tasks.length);
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(target.id);
      expect(gets.filter((u) => /\/v1\/tasks\/[^/?]+$/.test(new URL(u).pathname))).toEqual([]);
      expect(gets.some((u) => new URL(u).searchParams.get('include') === 'sources')).toBe(true);
      expect(await page.locator(tid(testIds.inbox.shortcuts)).innerText()).toMatch(
        /h\s+move to… \(then t today, w week, m month, p proposed\)/,
      );

      await page.keyboard.press('h');
      await page.locator(tid(testIds.inbox.horizonPicker)).waitFor({ timeout: 20_000 });
      await page.keyboard.press('w');
      await expect
        .poll(async () => getTask(target.id), { timeout: 20_000 })
        .toMatchObject({ horizon: 'week', horizonOverride: 'week' });
      await page.locator(tid(testIds.inbox.status)).getByText('Moved').waitFor();
      // It left this month's list.
      await expect.poll(() => cards(page).count(), { timeout: 20_000 }).toBe(tasks.length - 1);

      // h then Escape cancels: nothing is sent.
      await page.keyboard.press('h');
      await page.locator(tid(testIds.inbox.horizonPicker)).waitFor({ timeout: 20_000 });
      await page.keyboard.press('Escape');
      await page.locator(tid(testIds.inbox.horizonPicker)).waitFor({ state: 'detached' });
      expect((await getTask(target.id)).horizonOverride).toBe('week');

      await page.keyboard.press('u');
      await expect
        .poll(async () => getTask(target.id), { timeout: 20_000 })
        .toMatchObject({ horizon: 'month', horizonOverride: null });
      await expect.poll(() => cards(page).count(), { timeout: 20_000 }).toBe(tasks.length);
    });
  }, 60_000);

  it('starts a run from a task (agent picked in the dialog) and links it', async () => {
    const { tasks } = await apiJson<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=month&limit=100');
    const target = tasks[0]!;
    await visit(`/inbox?horizon=month&task=${target.id}`, async (page) => {
      await expect.poll(() => selectedId(page), { timeout: 20_000 }).toBe(target.id);
      await page.keyboard.press('r');
      await page.locator(tid(testIds.inbox.runAgent)).selectOption('claude');
      await page.locator(tid(testIds.inbox.dialogConfirm)).click();
      const runId = await waitFor(
        async () => (await getTask(target.id)).runId,
        'the task to link its run',
        20_000,
      );
      const link = page.locator(
        `${tid(testIds.inbox.task)}[data-task-id="${target.id}"] ${tid(testIds.inbox.runLink)}`,
      );
      await expect
        .poll(() => link.getAttribute('href'), { timeout: 20_000 })
        .toBe(`/runs/${runId}`);
    });
  }, 60_000);
});

describe('graph', () => {
  it("draws the API's nodes and edges in lanes; filters live in the URL", async () => {
    const all = await apiJson<{ nodes: Array<{ id: string; lane: string }>; edges: unknown[] }>(
      'GET',
      '/v1/graph?window=month',
    );
    expect(all.edges.length).toBeGreaterThan(0);
    await visit('/inbox/graph', async (page) => {
      const nodes = page.locator(tid(testIds.graph.node));
      await expect.poll(() => nodes.count(), { timeout: 20_000 }).toBe(all.nodes.length);
      await expect
        .poll(() => page.locator(tid(testIds.graph.edge)).count(), { timeout: 20_000 })
        .toBe(all.edges.length);
      for (const lane of new Set(all.nodes.map((n) => n.lane))) {
        expect(await page.locator(`${tid(testIds.graph.node)}[data-lane="${lane}"]`).count()).toBe(
          all.nodes.filter((n) => n.lane === lane).length,
        );
      }
      await page.locator(tid(testIds.graph.kind)).selectOption('jira');
      await page.waitForURL(/kind=jira/);
    });
    const jira = await apiJson<{ nodes: unknown[] }>('GET', '/v1/graph?window=month&kind=jira');
    await visit('/inbox/graph?kind=jira&edge=issue_link', async (page) => {
      // The select gets its options from GET /v1/graph/filters: wait for them.
      await expect
        .poll(() => page.locator(tid(testIds.graph.kind)).inputValue(), { timeout: 20_000 })
        .toBe('jira');
      const nodes = page.locator(tid(testIds.graph.node));
      await expect.poll(() => nodes.count(), { timeout: 20_000 }).toBe(jira.nodes.length);
      const kinds = await page
        .locator(tid(testIds.graph.edge))
        .evaluateAll((es) => es.map((e) => e.getAttribute('data-kind')));
      expect(kinds.every((k) => k === 'issue_link')).toBe(true);
      // A node opens its task in the inbox.
      await nodes.first().click();
      await page.waitForURL(/\/inbox\?horizon=\w+&task=/);
    });
  }, 60_000);
});

describe('connectors', () => {
  it('shows statuses with what to do, connects by OAuth and by token, and test-all streams steps live', async () => {
    await visit('/connectors', async (page) => {
      const row = (kind: string) =>
        page.locator(`${tid(testIds.connectors.row)}[data-kind="${kind}"]`);
      // The seeded Jira connector is rate limited: the page says until when.
      await expect
        .poll(() => row('jira').innerText(), { timeout: 20_000 })
        .toMatch(/rate limited until/i);
      expect(await row('drive').locator(tid(testIds.connectors.status)).innerText()).toBe(
        'disconnected',
      );

      // Gmail through OAuth: the authorize URL opens in a new tab, the fake consents, the
      // callback connects, and this page sees it.
      const popup = page.context().waitForEvent('page');
      await row('gmail').locator(tid(testIds.connectors.connect)).click();
      await (await popup).waitForLoadState();
      await expect
        .poll(() => row('gmail').locator(tid(testIds.connectors.status)).innerText(), {
          timeout: 30_000,
        })
        .toBe('connected');
      await row('gmail').locator(tid(testIds.connectors.test)).click();
      await expect
        .poll(
          () =>
            row('gmail')
              .locator(`${tid(testIds.connectors.step)}[data-ok="true"]`)
              .count(),
          {
            timeout: 20_000,
          },
        )
        .toBeGreaterThanOrEqual(3);

      // GitHub with a token.
      await row('github').locator('summary').click();
      await row('github').locator(tid(testIds.connectors.token)).fill(GITHUB_TOKEN);
      await row('github').locator(tid(testIds.connectors.tokenSubmit)).click();
      await row('github').getByText('Connected with the token').waitFor({ timeout: 20_000 });
      expect(await page.content()).not.toContain(GITHUB_TOKEN);
      await waitFor(async () => gate.held() === 0, 'the sync after connecting', 20_000);

      // Test all, with GitHub's answers held: Gmail's steps show while the test still runs.
      gate.close();
      await page.locator(tid(testIds.connectors.testAll)).click();
      const steps = page.locator(`.ib-test-all ${tid(testIds.connectors.step)}`);
      const state = page.locator(tid(testIds.connectors.testAllState));
      await waitFor(
        async () => (await steps.and(page.locator('[data-kind="gmail"]')).count()) >= 3,
        "gmail's steps while github is held",
        30_000,
      );
      await waitFor(async () => gate.held() > 0, 'github held at the gate', 30_000);
      expect(await state.getAttribute('data-phase')).toBe('running');
      expect(
        await page
          .locator(`.ib-test-all ${tid(testIds.connectors.step)}[data-kind="github"]`)
          .count(),
      ).toBe(0);
      gate.open();
      await expect.poll(() => state.getAttribute('data-phase'), { timeout: 30_000 }).toBe('done');
      const github = page.locator(
        `.ib-test-all ${tid(testIds.connectors.step)}[data-kind="github"]`,
      );
      expect(await github.count()).toBeGreaterThanOrEqual(3);
      expect(
        await github.evaluateAll((es) => es.every((e) => e.getAttribute('data-ok') === 'true')),
      ).toBe(true);
    });
  }, 120_000);
});

describe('accessibility and small screens', () => {
  const paths = ['/inbox', '/inbox?horizon=week', '/inbox/graph', '/connectors'];
  for (const [name, viewport, theme] of [
    ['1280 light', DESKTOP, 'light'],
    ['360', PHONE, undefined],
    ['1280 dark', DESKTOP, 'dark'],
  ] as const) {
    it(`no serious or critical axe violation and no page-wide horizontal scroll at ${name}`, async () => {
      const failures: string[] = [];
      for (const path of paths) {
        await visit(
          path,
          async (page) => {
            await page.locator('main h1').first().waitFor({ timeout: 20_000 });
            await waitFor(
              async () => (await page.getByText('Loading…').count()) === 0,
              'the page to finish loading',
              20_000,
            );
            for (const v of await axeScan(page)) {
              failures.push(`${path}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(', ')}`);
            }
            const overflow = (await page.evaluate(
              'document.documentElement.scrollWidth - window.innerWidth',
            )) as number;
            if (overflow > 1) failures.push(`${path}: ${overflow}px wider than the window`);
          },
          viewport,
          { bypassCSP: true, ...(theme ? { theme } : {}) },
        );
      }
      expect(failures).toEqual([]);
    }, 180_000);
  }
});
