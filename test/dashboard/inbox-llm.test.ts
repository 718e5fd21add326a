/**
 * The inbox page with the optional LLM pass on, in a real browser against a real
 * `patchbay serve`: the demo data, then a GitHub token connect whose sync starts the pass
 * (the scripted OpenAI server answers); the cards show the model's summary and labels,
 * badged as the model's, and the order of the lane is the one the API answered before.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../fixtures/inbox/fake-github.js';
import { chatStream } from '../fixtures/llm-servers/openai.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
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
import { AGENT_BINS } from './seed-pages.js';

const TOKEN = 'ghp_dashboard_inbox_llm_token';
let dash: Dashboard;
let browser: Browser;
let github: FakeGithub;
let llm: ScriptedServer;

interface Task {
  id: string;
  title: string;
  aiSummary: string | null;
}

beforeAll(async () => {
  github = await startFakeGithub({
    login: 'dev',
    token: { value: TOKEN, scopes: ['repo', 'read:user'] },
  });
  llm = await startScriptedServer('/v1');
  for (let i = 0; i < 20; i++) {
    llm.enqueue(
      chatStream({
        model: 'gpt-5-mini',
        text: JSON.stringify({ summary: `Model summary ${i}.`, labels: ['suggested'] }),
        usage: { prompt: 40, completion: 10 },
      }),
    );
  }
  [dash, browser] = await Promise.all([
    startDashboard({
      env: {
        ...AGENT_BINS,
        PATCHBAY_INBOX_DEV_SEED: '1',
        PATCHBAY_INBOX_LLM: 'on',
        PATCHBAY_OPENAI_API_KEY: 'sk-dashboard-inbox-llm',
        PATCHBAY_OPENAI_BASE_URL: llm.baseUrl,
        PATCHBAY_LLM_MAX_RETRIES: '0',
        PATCHBAY_INBOX_APPS: JSON.stringify({
          github: {
            clientId: 'Iv1.fakegithub',
            clientSecret: 'github-secret',
            apiBaseUrl: github.url,
            authorizeUrl: `${github.url}/login/oauth/authorize`,
            tokenUrl: `${github.url}/login/oauth/access_token`,
          },
        }),
      },
    }),
    launchBrowser(),
  ]);
  expect((await dash.server.api.request('POST', '/v1/dev/seed')).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await cleanupDashboard(browser);
  await Promise.all([github?.close(), llm?.close()]);
}, 30_000);

const today = async (): Promise<Task[]> =>
  (
    (await dash.server.api.request('GET', '/v1/tasks?horizon=today&limit=3')).body as {
      tasks: Task[];
    }
  ).tasks;

it("shows the model's summary and labels on the cards, in the API's order", async () => {
  const before = await today();
  expect(before.length).toBeGreaterThan(0);
  expect(before.every((t) => t.aiSummary === null)).toBe(true);
  const connected = await dash.server.api.request('POST', '/v1/connectors/github/connect', {
    token: TOKEN,
  });
  expect(connected.status).toBe(204);
  const after = await waitFor(
    async () => {
      const tasks = await today();
      return tasks.every((t) => t.aiSummary) ? tasks : undefined;
    },
    'summaries on the top three',
    30_000,
  );
  expect(after.map((t) => t.id)).toEqual(before.map((t) => t.id));

  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  try {
    await page.goto(`${dash.url}/inbox`);
    const top = page.locator(`${tid(testIds.inbox.top)} ${tid(testIds.inbox.title)}`);
    await expect
      .poll(() => top.allInnerTexts(), { timeout: 20_000 })
      .toEqual(after.map((t) => t.title));
    const ai = page.locator(`${tid(testIds.inbox.top)} ${tid(testIds.inbox.aiSuggestion)}`);
    await expect.poll(() => ai.count(), { timeout: 20_000 }).toBe(after.length);
    const first = await ai.first().innerText();
    expect(first).toContain(after[0]!.aiSummary!);
    expect(first).toMatch(/model/);
    expect(first).toContain('suggested');
  } finally {
    await context.close();
  }
}, 90_000);
