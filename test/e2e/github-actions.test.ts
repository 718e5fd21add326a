/**
 * `deliver: actions` end to end: a real `patchbay serve` (with API tokens) pushes the run's
 * branch to the fake GitHub and sends the `repository_dispatch` that hands the GitHub Action a
 * report URL and a key; then the Action's own report script (action/report.mjs, run with the
 * environment a job gives it) reports back without a bearer token, and the outcome is on the
 * run. Forged, tampered, expired and replayed reports are refused; the reference Standard
 * Webhooks library signs the hand-made ones.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../fixtures/github/fake-github.js';
import {
  cleanupAll,
  ROOT,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

const TOKEN = 'e2e-actions-token';
const GH_TOKEN = 'ghp_actions_e2e_token';
const REPO = 'octo/actions';
const PUBLIC = 'https://patchbay.example.com';
const AGENTS = join(ROOT, 'test', 'fixtures', 'agents');

let fake: FakeGithub;
let server: ServerHandle;
let runId: string;
let secret: string;
let branch: string;

beforeAll(async () => {
  const dir = tempDir('patchbay-gh-actions-');
  fake = await startFakeGithub({ dir, token: GH_TOKEN });
  fake.addRepo(REPO);
  server = await startServer({
    token: TOKEN,
    env: {
      PATCHBAY_API_TOKENS: TOKEN,
      PATCHBAY_GITHUB_TOKEN: GH_TOKEN,
      PATCHBAY_GITHUB_API_URL: fake.url,
      PATCHBAY_GITHUB_URL: fake.url,
      PATCHBAY_PUBLIC_URL: PUBLIC,
      PATCHBAY_AGENT_CLAUDE_BIN: join(AGENTS, 'fake-claude.sh'),
    },
  });
}, 60_000);

afterAll(async () => {
  await cleanupAll();
  await fake?.close();
});

/** action/report.mjs as the composite action runs it, with a job's environment. */
function runReportScript(env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'action', 'report.mjs')], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: REPO,
        GITHUB_RUN_ID: '9001',
        GITHUB_RUN_ATTEMPT: '1',
        REPORT_URL: `${server.url}/v1/webhooks/actions/${runId}`,
        REPORT_SECRET: secret,
        RUN_ID: runId,
        BRANCH: branch,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A report POSTed by hand (no bearer token) with the given headers. */
async function post(id: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${server.url}/v1/webhooks/actions/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const delivery = async (id: string) =>
  (await server.api.request('GET', `/v1/runs/${id}/delivery`)).body as Json;

describe('deliver: actions', () => {
  it('pushes the branch and dispatches the Action with the run, its branch, a report URL and a key', async () => {
    const repo = await server.api.request('POST', '/v1/repos', { github: REPO });
    expect(repo.status, repo.text).toBe(201);
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit for the action',
      repo: repo.body.id,
      deliver: 'actions',
    });
    runId = run.id;
    const dispatch = await waitFor(
      () => fake.requests.find((r) => r.path === `/repos/${REPO}/dispatches`),
      'a repository_dispatch',
      60_000,
    );
    const body = dispatch.body as Json;
    expect(body.event_type).toBe('patchbay-run');
    expect(body.client_payload).toMatchObject({
      run_id: runId,
      prompt: 'edit for the action',
      report_url: `${PUBLIC}/v1/webhooks/actions/${runId}`,
    });
    secret = body.client_payload.report_secret;
    branch = body.client_payload.branch;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(fake.branchTip(REPO, branch)).toBeDefined();
    const state = await waitFor(
      async () => {
        const d = await delivery(runId);
        return d.dispatchedAt ? d : null;
      },
      'the dispatch to be recorded',
      30_000,
    );
    expect(state).toMatchObject({ deliver: 'actions', branch, actions: null });
    // The key is the Action's credential: the API never shows it.
    expect(JSON.stringify(state)).not.toContain(secret.slice(6, 20));
  }, 90_000);

  it("records the Action's report, sent by its own script: status, branch, PR, logs", async () => {
    const failed = await runReportScript({ STATUS: 'failed' });
    expect(failed.code, failed.stderr).toBe(0);
    let state = await delivery(runId);
    expect(state.actions).toMatchObject({
      status: 'failed',
      branch,
      pullRequestUrl: null,
      logsUrl: `https://github.com/${REPO}/actions/runs/9001`,
      webhookId: `${runId}-9001-1`,
    });
    // A job that failed is a delivery that failed.
    expect(state.deliveryError).toBe(
      `the GitHub Action ended failed: https://github.com/${REPO}/actions/runs/9001`,
    );
    expect((await server.api.getRun(runId)).deliveryError).toBe(state.deliveryError);

    // The job re-run (attempt 2) succeeds and opened a pull request: that is the outcome now.
    const ok = await runReportScript({
      STATUS: 'succeeded',
      GITHUB_RUN_ATTEMPT: '2',
      PULL_REQUEST_URL: `${fake.url}/${REPO}/pull/3`,
    });
    expect(ok.code, ok.stderr).toBe(0);
    state = await delivery(runId);
    expect(state.actions).toMatchObject({
      status: 'succeeded',
      pullRequestUrl: `${fake.url}/${REPO}/pull/3`,
      webhookId: `${runId}-9001-2`,
    });
    expect(state.deliveryError).toBeNull();
  }, 30_000);

  it('refuses a replayed report (same webhook-id), even when signed right', async () => {
    const again = await runReportScript({ STATUS: 'failed', GITHUB_RUN_ATTEMPT: '2' });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('401');
    expect(again.stderr).toContain('ACTIONS_REPORT_REPLAYED');
    expect((await delivery(runId)).actions.status).toBe('succeeded');
  }, 30_000);

  it('refuses a wrong key, a tampered body, missing headers, an expired timestamp and an undispatched run', async () => {
    const wrongKey = await runReportScript({
      REPORT_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64'),
      GITHUB_RUN_ATTEMPT: '3',
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('ACTIONS_REPORT_UNAUTHORIZED');

    const hook = new Webhook(secret);
    const body = JSON.stringify({ runId, status: 'failed' });
    const at = new Date();
    const headers = (id: string, signedBody: string, when = at) => ({
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(when.getTime() / 1000)),
      'webhook-signature': hook.sign(id, when, signedBody),
    });
    const tampered = await post(runId, body, headers('msg_t', body.replace('failed', 'x')));
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('ACTIONS_REPORT_UNAUTHORIZED');

    const missing = await post(runId, body, {});
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('ACTIONS_REPORT_UNAUTHORIZED');

    const old = new Date(Date.now() - 10 * 60_000);
    const expired = await post(runId, body, headers('msg_old', body, old));
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('ACTIONS_REPORT_EXPIRED');

    // A run that dispatched nothing expects no report, and an unknown one is not told apart.
    const plain = await server.api.createRun({ agent: 'shell', command: ['true'] });
    const other = JSON.stringify({ runId: plain.id, status: 'succeeded' });
    for (const id of [plain.id, 'run_01JXXXXXXXXXXXXXXXXXXXXXXX']) {
      const res = await post(id, other, headers('msg_x', other));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('ACTIONS_REPORT_UNAUTHORIZED');
    }

    // Signed right with a fresh id: accepted (the refusals above recorded nothing).
    const good = await post(runId, body, headers('msg_good', body));
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(good.body).toEqual({ runId, recorded: true });
    expect((await delivery(runId)).actions).toMatchObject({
      status: 'failed',
      webhookId: 'msg_good',
    });
  }, 30_000);
});
