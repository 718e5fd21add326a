/**
 * An optimizer proposal as a pull request, end to end: a real `patchbay serve` optimizes a
 * repository it cloned from the fake GitHub (`github: owner/name`, token auth); the real CLI
 * follows it (`patchbay optimize --follow <id> --pr`) and has the server push the change and
 * open a PR whose body carries the evidence; `POST /v1/optimizations/:id/proposals/:pid/
 * pull-request` then answers that same PR.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../fixtures/github/fake-github.js';
import {
  cleanupAll,
  GIT_ENV,
  runCli,
  startServer,
  tempDir,
  type Json,
  type ServerHandle,
} from './helpers.js';

const REPOS = join(import.meta.dirname, '..', 'fixtures', 'repos');
const TOKEN = 'ghp_optimizer_e2e_token';
let fake: FakeGithub;
let server: ServerHandle;

beforeAll(async () => {
  const dir = tempDir('patchbay-ghopt-');
  fake = await startFakeGithub({ dir, token: TOKEN });
  fake.addRepo('octo/lib-math', {}, join(REPOS, 'lib-math'));
  server = await startServer({
    env: {
      PATCHBAY_GITHUB_TOKEN: TOKEN,
      PATCHBAY_GITHUB_API_URL: fake.url,
      PATCHBAY_GITHUB_URL: fake.url,
      PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,HOME,LANG,BENCH_MS',
      BENCH_MS: '150',
    },
  });
}, 60_000);

afterAll(async () => {
  await cleanupAll();
  await fake?.close();
});

describe('optimizer proposals as pull requests', () => {
  it('patchbay optimize --follow --pr opens one PR per proposal with the evidence; the API answers the same PR', async () => {
    const repo = await server.api.request('POST', '/v1/repos', { github: 'octo/lib-math' });
    expect(repo.status, repo.text).toBe(201);
    const started = await server.api.request('POST', `/v1/repos/${repo.body.id}/optimize`, {
      samples: 6,
      maxCandidates: 3,
    });
    expect(started.status, started.text).toBe(202);
    const optimizationId = started.body.id;
    // As a user would: follow the optimization from the terminal and ask for the PRs.
    const cli = await runCli(['optimize', '--follow', optimizationId, '--pr'], {
      env: { PATCHBAY_URL: server.url },
      timeoutMs: 280_000,
    });
    expect(cli.code, `${cli.stdout}\n${cli.stderr}`).toBe(0);
    const proposals = (await server.api.request('GET', `/v1/proposals?repoId=${repo.body.id}`)).body
      .proposals as Json[];
    expect(proposals.length).toBeGreaterThan(0);
    // One PR per proposal, each named in the CLI's output.
    expect(fake.pulls).toHaveLength(proposals.length);
    const output = `${cli.stdout}${cli.stderr}`;
    for (const pull of fake.pulls)
      expect(output).toContain(`${fake.url}/octo/lib-math/pull/${pull.number}`);
    const p = proposals[0];
    const path = `/v1/optimizations/${optimizationId}/proposals/${p.id}/pull-request`;
    // The API answers the PR the CLI had opened (201, the same number), not a second one.
    const res = await server.api.request('POST', path);
    expect(res.status, res.text).toBe(201);
    expect(res.body.branch).toBe(`patchbay/optimize-${String(p.id).toLowerCase()}`);
    const pr = fake.pulls.find((x) => x.number === res.body.number)!;
    expect(pr.head).toBe(res.body.branch);
    expect(pr.draft).toBe(p.confidence !== 'proven');
    expect(pr.body).toMatch(/\d+\.\d{2}× (faster|slower), [−+]\d+\.\d % time/);
    expect(pr.body).toContain('Noise floor');
    expect(pr.body).toContain('### Reproduce');
    expect(pr.body).toContain('### Attempts');
    // The branch holds the proposal's change on the commit it was measured on.
    const tip = fake.branchTip('octo/lib-math', res.body.branch)!;
    const parent = execFileSync('git', ['rev-parse', `${tip}^`], {
      cwd: fake.repos.get('octo/lib-math')!.bare,
      env: GIT_ENV,
      encoding: 'utf8',
    }).trim();
    expect(parent).toBe(p.evidence.commit);
    const again = await server.api.request('POST', path);
    expect(again.body.number).toBe(res.body.number);
    expect(fake.pulls).toHaveLength(proposals.length);
    const wrong = await server.api.request(
      'POST',
      `/v1/optimizations/run_nope/proposals/${p.id}/pull-request`,
    );
    expect(wrong.status).toBe(404);
  }, 320_000);
});
