/**
 * GitHub end to end, without the network: a real `patchbay serve` acting as a GitHub App
 * against the local fake GitHub (test/fixtures/github), whose git remote is real
 * (`git http-backend` behind token auth). Webhooks are signed and posted like GitHub posts
 * them; what Patchbay did is read off the fake (pull requests, comments, branches) and the API.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  example,
  startFakeGithub,
  type FakeGithub,
  type FakeUser,
} from '../fixtures/github/fake-github.js';
import {
  cleanupAll,
  GIT_ENV,
  ROOT,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

const SECRET = 'webhook-secret-for-tests';
const APP_ID = 123;
const REPO = 'octo/demo';
const AGENTS = join(ROOT, 'test', 'fixtures', 'agents');

let fake: FakeGithub;
let server: ServerHandle;
let dir: string;
let alice: FakeUser;

/** Author, committer and message of `commit` in the remote. */
const commitOf = (commit: string) =>
  execFileSync('git', ['log', '-1', '--format=%an <%ae>%n%cn <%ce>%n%B', commit], {
    cwd: fake.repos.get(REPO)!.bare,
    env: GIT_ENV,
    encoding: 'utf8',
  });

const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

async function deliver(
  event: string,
  payload: unknown,
  options: { id?: string; signature?: string | null } = {},
) {
  const body = JSON.stringify(payload);
  const signature = options.signature === undefined ? sign(body) : options.signature;
  const res = await fetch(`${server.url}/v1/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.id ?? randomUUID(),
      ...(signature !== null && { 'x-hub-signature-256': signature }),
    },
    body,
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as Json };
}

/** An issue_comment payload (from the recorded example) by `login` on issue `number`. */
function issueComment(login: string, number: number, body: string, onPull = false) {
  const p = example('issue_comment', 'created');
  p.repository = { ...p.repository, full_name: REPO, name: 'demo', owner: { login: 'octo' } };
  p.sender = { ...p.sender, login, type: 'User' };
  p.issue = { ...p.issue, number, title: 'The README needs work', body: 'Please improve it.' };
  if (onPull) p.issue.pull_request = { url: `${fake.url}/repos/${REPO}/pulls/${number}` };
  else delete p.issue.pull_request;
  p.comment = { ...p.comment, id: Math.floor(Math.random() * 1e9), body, user: { login } };
  return p;
}

const runsOfRepo = async () =>
  (await server.api.request('GET', '/v1/runs?limit=200')).body.runs as Json[];

beforeAll(async () => {
  dir = tempDir('patchbay-github-');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'app.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  fake = await startFakeGithub({
    dir,
    appId: APP_ID,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  fake.addRepo(REPO, { alice: 'write', mallory: 'read' });
  alice = fake.addUser('alice', 'Alice Liddell');
  server = await startServer({
    env: {
      PATCHBAY_GITHUB_APP_ID: String(APP_ID),
      PATCHBAY_GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
      PATCHBAY_GITHUB_WEBHOOK_SECRET: SECRET,
      PATCHBAY_GITHUB_API_URL: fake.url,
      PATCHBAY_GITHUB_URL: fake.url,
      PATCHBAY_GITHUB_DELIVERY_BACKOFF_MS: '300',
      PATCHBAY_GITHUB_WEBHOOK_RETRY_MS: '500',
      PATCHBAY_GITHUB_PR_LABELS: 'patchbay,automated',
      PATCHBAY_PUBLIC_URL: 'https://patchbay.example.com',
      PATCHBAY_AGENT_CLAUDE_BIN: join(AGENTS, 'fake-claude.sh'),
    },
  });
  // The App is installed on the repository: Patchbay registers and clones it.
  const installed = example('installation', 'created');
  installed.installation = { ...installed.installation, id: 4242 };
  installed.repositories = [{ id: fake.repos.get(REPO)!.id, full_name: REPO, name: 'demo' }];
  expect((await deliver('installation', installed)).status).toBe(202);
  await waitFor(
    async () => {
      const repos = (await server.api.request('GET', '/v1/repos')).body.repos as Json[];
      const repo = repos.find((r) => r.github === REPO && r.defaultBranch === 'main');
      if (!repo) return null;
      const files = await server.api.request('GET', `/v1/repos/${repo.id}/files`);
      return files.status === 200 && files.body.entries.some((e: Json) => e.name === 'README.md');
    },
    'the installed repository to be registered',
    30_000,
  );
}, 90_000);

afterAll(async () => {
  if (process.env.GH_DEBUG) console.log(server?.stderr().slice(-6000));
  await cleanupAll();
  await fake?.close();
});

describe('the webhook endpoint', () => {
  it('refuses unsigned and wrongly signed deliveries with 401 and dedupes on the delivery id', async () => {
    const ping = example('ping');
    expect((await deliver('ping', ping, { signature: null })).status).toBe(401);
    expect((await deliver('ping', ping, { signature: sign('something else') })).status).toBe(401);
    const wrong = await deliver('ping', ping, { signature: 'sha256=' + '0'.repeat(64) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('GITHUB_WEBHOOK_UNAUTHORIZED');
    const id = randomUUID();
    expect((await deliver('ping', ping, { id })).status).toBe(202);
    const again = await deliver('ping', ping, { id });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
  });

  it('ignores a trigger from a user without write permission', async () => {
    const before = (await runsOfRepo()).length;
    const commentsBefore = fake.comments.length;
    expect(
      (await deliver('issue_comment', issueComment('mallory', 7, '@patchbay edit it'))).status,
    ).toBe(202);
    await waitFor(
      () => fake.requests.some((r) => r.path.endsWith('/collaborators/mallory/permission')),
      'the permission check',
      15_000,
    );
    // A later delivery is handled after this one: once it is, this one was too.
    await deliver('ping', example('ping'));
    await new Promise((r) => setTimeout(r, 300));
    expect((await runsOfRepo()).length).toBe(before);
    expect(fake.comments.length).toBe(commentsBefore);
  });
});

describe('an acknowledged delivery', () => {
  it('whose handling failed is handled again: nothing acknowledged is lost, nothing runs twice', async () => {
    const permission = /\/collaborators\/alice\/permission$/;
    const checksBefore = fake.requests.filter((r) => permission.test(r.path)).length;
    // The first try's permission check gets a 5xx: the try fails after the 202.
    fake.failNext(permission, 502, 1);
    const res = await deliver(
      'issue_comment',
      issueComment('alice', 11, '@patchbay add a line about tests to the README'),
    );
    expect(res.status).toBe(202);
    const runs = await waitFor(
      async () => {
        const found = (await runsOfRepo()).filter((r) =>
          r.prompt?.startsWith('add a line about tests to the README'),
        );
        return found.length > 0 ? found : null;
      },
      'the retried delivery to start its run',
      60_000,
    );
    expect(runs).toHaveLength(1);
    // Tried twice (the failed check, then the one that passed), and settled: a later look for
    // unhandled deliveries (every 500 ms here) finds nothing to run again.
    expect(fake.requests.filter((r) => permission.test(r.path)).length).toBe(checksBefore + 2);
    await waitFor(
      async () =>
        (await server.api.request('GET', `/v1/runs/${runs[0].id}`)).body.status === 'succeeded',
      'the run to end',
      60_000,
    );
    const again = (await runsOfRepo()).filter((r) =>
      r.prompt?.startsWith('add a line about tests to the README'),
    );
    expect(again).toHaveLength(1);
    expect(server.stderr()).toContain('webhook handling failed; will retry');
  }, 90_000);
});

describe('a comment trigger, then a review comment', () => {
  let prNumber: number;
  let branch: string;

  it('runs once and opens a draft pull request with the run branch, the ask and the answer', async () => {
    const res = await deliver(
      'issue_comment',
      issueComment('alice', 1, 'Hey @patchbay: edit the README please'),
    );
    expect(res.status).toBe(202);
    // Labels follow the pull request's creation: wait for both.
    const pr = await waitFor(
      () => fake.pulls.find((p) => p.repo === REPO && p.labels.length === 2),
      'a labelled pull request',
      60_000,
    );
    prNumber = pr.number;
    branch = pr.head;
    expect(branch).toMatch(/^patchbay\/edit-the-readme-please-run_[0-9a-z]{26}$/);
    expect(pr.base).toBe('main');
    expect(pr.draft).toBe(true);
    expect(pr.labels).toEqual(['patchbay', 'automated']);
    expect(pr.body).toContain('> edit the README please');
    expect(pr.body).toContain('### What the agent did');
    expect(pr.body).toContain('No validation gates ran.');
    expect(pr.body).toMatch(/https:\/\/patchbay\.example\.com\/v1\/runs\/run_/);
    // The branch is on the remote, with the agent's change committed by Patchbay.
    const tip = fake.branchTip(REPO, branch);
    expect(tip).toBeDefined();
    const readme = execFileSync('git', ['show', `${tip}:README.md`], {
      cwd: fake.repos.get(REPO)!.bare,
      env: GIT_ENV,
      encoding: 'utf8',
    });
    expect(readme).toContain('edited by fake-claude');
    // Committed by the App's bot account, crediting the GitHub user who asked.
    const bot = `${fake.bot.login} <${fake.bot.id}+${fake.bot.login}@users.noreply.github.com>`;
    expect(bot).toBe('patchbay-test[bot] <41898282+patchbay-test[bot]@users.noreply.github.com>');
    const [author, committer, ...message] = commitOf(tip!).split('\n');
    expect(author).toBe(bot);
    expect(committer).toBe(bot);
    expect(message.join('\n').trim()).toMatch(
      new RegExp(
        `\\n\\nCo-authored-by: Alice Liddell <${alice.id}\\+alice@users\\.noreply\\.github\\.com>$`,
      ),
    );
    // One run, one status comment: posted as "working…", then edited with the result.
    const runs = (await runsOfRepo()).filter((r) => r.prompt?.startsWith('edit the README please'));
    expect(runs).toHaveLength(1);
    expect(runs[0].deliver).toBe('draft_pr');
    const status = await waitFor(
      () => fake.comments.find((c) => c.issue === 1 && c.body.includes('Pull request:')),
      'the status comment to show the result',
      30_000,
    );
    expect(fake.comments.filter((c) => c.issue === 1)).toHaveLength(1);
    expect(status.edits).toBeGreaterThanOrEqual(1);
    expect(status.body).toContain(`/pull/${prNumber}`);
  }, 90_000);

  it('a review comment runs a follow-up that updates the same pull request and replies in the thread', async () => {
    const first = fake.branchTip(REPO, branch)!;
    const p = example('pull_request_review_comment', 'created');
    p.repository = { ...p.repository, full_name: REPO };
    p.sender = { ...p.sender, login: 'alice', type: 'User' };
    p.pull_request = {
      ...p.pull_request,
      number: prNumber,
      head: { ...p.pull_request.head, ref: branch },
    };
    p.comment = {
      ...p.comment,
      id: 777001,
      body: 'edit again: also mention the licence',
      path: 'README.md',
      line: 1,
    };
    expect((await deliver('pull_request_review_comment', p)).status).toBe(202);
    const reply = await waitFor(
      () => fake.comments.find((c) => c.inReplyTo === 777001),
      'a reply in the review thread',
      60_000,
    );
    expect(reply.body).toContain('Patchbay finished');
    expect(fake.pulls.filter((x) => x.repo === REPO)).toHaveLength(1);
    const pr = fake.pulls.find((x) => x.number === prNumber)!;
    expect(pr.body).toContain('also mention the licence');
    const tip = fake.branchTip(REPO, branch)!;
    expect(tip).not.toBe(first);
    execFileSync('git', ['merge-base', '--is-ancestor', first, tip], {
      cwd: fake.repos.get(REPO)!.bare,
      env: GIT_ENV,
    });
  }, 90_000);

  it('when someone pushed to the branch meanwhile, merges it in and pushes: nothing is lost', async () => {
    const bare = fake.repos.get(REPO)!.bare;
    const clone = join(dir, 'someone');
    const g = (...args: string[]) =>
      execFileSync('git', args, { cwd: clone, env: GIT_ENV, encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '-q', '-b', branch, bare, clone], { env: GIT_ENV });
    writeFileSync(join(clone, 'THEIRS.md'), 'a human was here\n');
    g('add', '.');
    g('commit', '-q', '-m', 'human commit');
    g('push', '-q', 'origin', branch);
    const theirs = g('rev-parse', 'HEAD');
    const p = issueComment('alice', prNumber, '@patchbay edit once more', true);
    expect((await deliver('issue_comment', p)).status).toBe(202);
    const tip = await waitFor(
      () => {
        const t = fake.branchTip(REPO, branch);
        return t && t !== theirs ? t : null;
      },
      'the follow-up to be pushed',
      60_000,
    );
    const log = execFileSync('git', ['log', '--format=%s', tip], {
      cwd: bare,
      env: GIT_ENV,
      encoding: 'utf8',
    });
    expect(log).toContain('human commit');
    expect(log).toContain(`Merge ${branch} from GitHub`);
    // The merge commit Patchbay made is the bot's too.
    expect(commitOf(tip).split('\n')[0]).toBe(
      `${fake.bot.login} <${fake.bot.id}+${fake.bot.login}@users.noreply.github.com>`,
    );
    expect(fake.pulls.filter((x) => x.repo === REPO)).toHaveLength(1);
  }, 90_000);
});

describe('failures after the commit are retried and lose nothing', () => {
  async function apiRun(prompt: string, deliverAs = 'pr') {
    const repo = ((await server.api.request('GET', '/v1/repos')).body.repos as Json[]).find(
      (r) => r.github === REPO,
    );
    return server.api.createRun({ agent: 'claude', prompt, repo: repo.id, deliver: deliverAs });
  }

  async function settledReaction(runId: string) {
    return waitFor(
      async () => {
        const list = (await server.api.request('GET', `/v1/runs/${runId}/reactions`)).body
          .reactions as Json[];
        const r = list.find((x) => x.name === 'github-delivery');
        return r && (r.status === 'succeeded' || r.status === 'failed') ? r : null;
      },
      'the delivery to settle',
      60_000,
    );
  }

  it('a 5xx from GitHub: the run keeps its branch, shows deliveryError, and the retry opens the PR', async () => {
    fake.failNext(/^POST \/repos\/octo\/demo\/pulls$/, 502, 1);
    const run = await apiRun('edit for the 5xx case');
    await server.api.waitForStatus(run.id, ['succeeded'], 30_000);
    const reaction = await settledReaction(run.id);
    expect(reaction.status).toBe('succeeded');
    expect(reaction.attempts.length).toBeGreaterThanOrEqual(2);
    expect(reaction.attempts[0].error).toContain('502');
    const after = await server.api.getRun(run.id);
    expect(after.deliveryError).toBeNull();
    // The commit stayed on the local run branch all along.
    const local = execFileSync('git', ['rev-parse', String(after.branch)], {
      cwd: join(server.dataDir, 'repos', String(after.repoId)),
      env: GIT_ENV,
      encoding: 'utf8',
    }).trim();
    expect(local).toBe(after.headCommit);
    const pr = fake.pulls.find((p) => p.body.includes('edit for the 5xx case'))!;
    // `pr` with no gates: ready for review at once.
    expect(pr.draft).toBe(false);
    // Asked over the API: the bot's commit, with no one to credit.
    const message = commitOf(fake.branchTip(REPO, pr.head)!);
    expect(message.split('\n')[0]).toBe(
      `${fake.bot.login} <${fake.bot.id}+${fake.bot.login}@users.noreply.github.com>`,
    );
    expect(message).not.toContain('Co-authored-by');
    // The App's slug and bot account were asked once for every commit so far.
    expect(fake.requests.filter((r) => r.path === '/app')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path.startsWith('/users/patchbay-test'))).toHaveLength(1);
  }, 90_000);

  it('a rejected git push (5xx from the remote) is retried', async () => {
    fake.failNext(/^POST \/octo\/demo\.git\/git-receive-pack/, 500, 1);
    const run = await apiRun('edit for the failing push', 'branch');
    const reaction = await settledReaction(run.id);
    expect(reaction.status).toBe('succeeded');
    expect(reaction.attempts.length).toBeGreaterThanOrEqual(2);
    const branches = execFileSync(
      'git',
      ['branch', '--list', 'patchbay/edit-for-the-failing-push-*'],
      {
        cwd: fake.repos.get(REPO)!.bare,
        env: GIT_ENV,
        encoding: 'utf8',
      },
    );
    expect(branches.trim()).not.toBe('');
  }, 90_000);

  it('an expired installation token: a fresh one is minted and the delivery goes through', async () => {
    const minted = fake.tokensMinted();
    fake.expireInstallationTokens();
    const run = await apiRun('edit for the expired token', 'draft_pr');
    const reaction = await settledReaction(run.id);
    expect(reaction.status).toBe('succeeded');
    expect(fake.tokensMinted()).toBeGreaterThan(minted);
    expect(fake.pulls.some((p) => p.body.includes('edit for the expired token'))).toBe(true);
  }, 90_000);
});

describe('the gates decide draft or ready', () => {
  it('a failing gate keeps `pr` a draft; `ready_pr` asks for a ready PR whatever the gates', async () => {
    const seed = join(dir, 'gated-seed');
    mkdirSync(seed, { recursive: true });
    writeFileSync(join(seed, 'README.md'), '# gated\n');
    // One gate, and it fails.
    writeFileSync(
      join(seed, '.patchbay.json'),
      JSON.stringify({ commands: { install: null, test: 'echo the test fails; exit 1' } }),
    );
    fake.addRepo('octo/gated', { alice: 'write' }, seed);
    const repo = await server.api.request('POST', '/v1/repos', { github: 'octo/gated' });
    expect(repo.status, repo.text).toBe(201);
    const pullOf = async (prompt: string, deliverAs: string) => {
      const run = await server.api.createRun({
        agent: 'claude',
        prompt,
        repo: repo.body.id,
        deliver: deliverAs,
      });
      const ended = await server.api.waitForStatus(run.id, ['succeeded'], 60_000);
      expect((ended.validation as Json[]).map((g) => [g.gate, g.status])).toEqual([
        ['test', 'failed'],
      ]);
      return waitFor(
        () => fake.pulls.find((p) => p.repo === 'octo/gated' && p.body.includes(prompt)),
        `the pull request of ${deliverAs}`,
        60_000,
      );
    };
    expect((await pullOf('edit with a failing gate', 'pr')).draft).toBe(true);
    expect((await pullOf('edit, ready whatever the gates', 'ready_pr')).draft).toBe(false);
  }, 150_000);
});

describe('a conversation over the API', () => {
  it('opens a draft, and a follow-up with deliver pr marks the same PR ready (GraphQL)', async () => {
    const repo = ((await server.api.request('GET', '/v1/repos')).body.repos as Json[]).find(
      (r) => r.github === REPO,
    );
    const conv = await server.api.request('POST', '/v1/conversations', {
      agent: 'claude',
      repo: repo.id,
    });
    expect(conv.status, conv.text).toBe(201);
    const post = (prompt: string, deliverAs: string) =>
      server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
        prompt,
        deliver: deliverAs,
      });
    const first = await post('edit in a conversation', 'draft_pr');
    expect(first.status, first.text).toBe(202);
    const draft = await waitFor(
      () => fake.pulls.find((p) => p.body.includes('edit in a conversation')),
      'the draft pull request',
      60_000,
    );
    expect(draft.draft).toBe(true);
    await server.api.waitForStatus(first.body.id, ['succeeded'], 30_000);
    const second = await post('edit it further', 'pr');
    expect(second.status, second.text).toBe(202);
    await waitFor(() => !draft.draft, 'the pull request to be marked ready', 60_000);
    expect(draft.body).toContain('edit it further');
    expect(fake.pulls.filter((p) => p.body.includes('edit in a conversation'))).toHaveLength(1);
    expect(
      fake.requests.some(
        (r) =>
          r.path === '/graphql' && JSON.stringify(r.body).includes('markPullRequestReadyForReview'),
      ),
    ).toBe(true);
  }, 120_000);
});

describe('deliver: actions', () => {
  it('pushes the branch and dispatches the Patchbay workflow with the run, branch and prompt', async () => {
    const repo = ((await server.api.request('GET', '/v1/repos')).body.repos as Json[]).find(
      (r) => r.github === REPO,
    );
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit for the action',
      repo: repo.id,
      deliver: 'actions',
    });
    const dispatch = await waitFor(
      () => fake.requests.find((r) => r.path === `/repos/${REPO}/dispatches`),
      'a repository_dispatch',
      60_000,
    );
    const body = dispatch.body as Json;
    expect(body.event_type).toBe('patchbay-run');
    expect(body.client_payload).toMatchObject({ run_id: run.id, prompt: 'edit for the action' });
    expect(fake.branchTip(REPO, body.client_payload.branch)).toBeDefined();
  }, 90_000);
});

describe('POST /v1/repos with github', () => {
  it('clones owner/name from GitHub with the App and remembers the name', async () => {
    fake.addRepo('octo/other', { alice: 'write' });
    const res = await server.api.request('POST', '/v1/repos', { github: 'octo/other' });
    expect(res.status).toBe(201);
    expect(res.body.github).toBe('octo/other');
    expect(res.body.name).toBe('other');
    expect(res.body.defaultBranch).toBe('main');
    const files = await server.api.request('GET', `/v1/repos/${res.body.id}/files`);
    expect(files.body.entries.map((e: Json) => e.name)).toContain('README.md');
    const bad = await server.api.request('POST', '/v1/repos', { github: 'not a name' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  }, 60_000);

  it('refuses deliver on a run without a repository', async () => {
    const res = await server.api.request('POST', '/v1/runs', {
      agent: 'shell',
      command: ['true'],
      deliver: 'pr',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('DELIVERY_NOT_POSSIBLE');
  });
});

describe('every recorded GitHub payload', () => {
  it('is accepted or ignored without error', async () => {
    const all = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
      name: string;
      examples: Json[];
    }[];
    const errorsBefore = server.stderr().split('webhook handling failed').length;
    let count = 0;
    for (const { name, examples } of all) {
      for (const payload of examples) {
        const res = await deliver(name, payload);
        expect(res.status, `${name}.${payload.action ?? ''}`).toBe(202);
        count += 1;
      }
    }
    expect(count).toBeGreaterThan(300);
    // Deliveries are handled in order: once a last one is, every one before it was.
    const sentinel = issueComment('sentinel-user', 99, '@patchbay edit nothing');
    await deliver('issue_comment', sentinel);
    await waitFor(
      () => fake.requests.some((r) => r.path.endsWith('/collaborators/sentinel-user/permission')),
      'every delivery to be handled',
      120_000,
    );
    expect(server.stderr().split('webhook handling failed').length).toBe(errorsBefore);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  }, 180_000);
});
