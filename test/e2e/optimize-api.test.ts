import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  GIT_ENV,
  readSse,
  runCli,
  sleep,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

afterAll(cleanupAll);

const REPOS = join(import.meta.dirname, '..', 'fixtures', 'repos');
const TOKEN = 'optimizer-e2e-token';
const STAGES = ['detect', 'baseline', 'scan', 'patch', 'validate', 'propose'];
/** The trusted root: registered repositories and the optimizations' directories. */
const ROOT = tempDir('patchbay-optapi-');

/** A GET with the path exactly as written (fetch would resolve `..` and `%2e%2e` first). */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** A fixture library as a git repository of its own (the optimizer clones from it). */
function gitRepo(name: string, edit?: (dir: string) => void): string {
  const dir = join(mkdtempSync(join(ROOT, 'repo-')), name);
  cpSync(join(REPOS, name), dir, { recursive: true });
  edit?.(dir);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: GIT_ENV });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'fixture');
  return dir;
}

/**
 * The optimizer through the HTTP API: every stage is a run (queued, streamed, stored), the
 * next stage is queued only when one succeeds, and what they produce (opportunities,
 * proposals, artifacts) is served, artifacts also through expiring signed URLs.
 */
describe('optimizer API', () => {
  let server: ServerHandle;
  let repoId: string;
  let optimizationId: string;
  let stages: Json[] = [];

  beforeAll(async () => {
    server = await startServer({
      token: TOKEN,
      env: {
        PATCHBAY_API_TOKENS: TOKEN,
        PATCHBAY_WORKSPACE_ROOTS: ROOT,
        PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,HOME,LANG,BENCH_MS',
        BENCH_MS: '150',
      },
    });
    const repo = await server.api.request('POST', '/v1/repos', { path: gitRepo('lib-math') });
    expect(repo.status, repo.text).toBe(201);
    repoId = repo.body.id;
  });

  it('runs the six stages as runs of one optimization and proposes the planted fixes', async () => {
    const started = await server.api.request('POST', `/v1/repos/${repoId}/optimize`, {
      samples: 6,
      maxCandidates: 3,
    });
    expect(started.status, started.text).toBe(202);
    expect(started.body).toMatchObject({ kind: 'optimize.detect', status: 'queued', repoId });
    optimizationId = started.body.id;
    expect(started.body.parentId).toBe(optimizationId);
    // The CLI follows the whole chain, stage after stage, as it happens.
    const follow = runCli(['optimize', '--follow', optimizationId, '--url', server.url], {
      env: { PATCHBAY_TOKEN: TOKEN },
      timeoutMs: 290_000,
    });

    const list = () =>
      server.api.request('GET', `/v1/repos/${repoId}/runs?parentId=${optimizationId}&limit=20`);
    // While it runs: follow the current stage live over SSE until it ends.
    const live = await waitFor(
      async () => (await list()).body.runs.find((r: Json) => r.status === 'running'),
      'a running stage',
      60_000,
    );
    const sse = await readSse(`${server.url}/v1/runs/${live.id}/events`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' },
      timeoutMs: 240_000,
    });
    const sseTypes = sse.frames.map((f) => f.event);
    expect(sseTypes).toContain('progress');
    expect(sseTypes[sseTypes.length - 1]).toBe('status');

    const done = await waitFor(
      async () => {
        const runs: Json[] = (await list()).body.runs;
        const failed = runs.find(
          (r) => r.status !== 'succeeded' && r.status !== 'running' && r.status !== 'queued',
        );
        if (failed)
          throw new Error(
            `stage ${failed.kind} ended ${failed.status}: ${JSON.stringify(failed.error)}`,
          );
        return runs.some((r) => r.kind === 'optimize.propose' && r.status === 'succeeded')
          ? runs
          : null;
      },
      'the propose stage to succeed',
      280_000,
      500,
    );
    stages = [...done].reverse();
    expect(stages.map((r) => r.kind)).toEqual(STAGES.map((s) => `optimize.${s}`));
    for (const run of stages) {
      expect(run).toMatchObject({ status: 'succeeded', parentId: optimizationId, repoId });
      const events: Json[] = await server.api.events(run.id);
      expect(
        events.some((e) => e.type === 'progress'),
        run.kind,
      ).toBe(true);
      expect(
        events.some((e) => e.type === 'artifact'),
        run.kind,
      ).toBe(true);
      expect(events[events.length - 1]).toMatchObject({
        type: 'status',
        data: { status: 'succeeded' },
      });
    }
    // Every stage after the first ran in the first one's directory.
    expect(new Set(stages.map((r) => r.workdir)).size).toBe(1);

    const kinds = await server.api.request('GET', `/v1/repos/${repoId}/runs?kind=optimize.scan`);
    expect(kinds.body.runs.map((r: Json) => r.id)).toEqual([stages[2].id]);

    const followed = await follow;
    expect(followed.code, followed.stderr).toBe(0);
    // Each stage's run in turn, with its progress, then how the optimization ended.
    const order = stages.map((r) =>
      followed.stderr.indexOf(`stage ${r.kind.slice(9)}: run ${r.id}`),
    );
    expect(
      order.every((i) => i >= 0),
      followed.stderr,
    ).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(followed.stderr).toMatch(/validate candidate 1\/\d+: /);
    expect(followed.stderr).toContain(`optimization ${optimizationId}: `);
    expect(followed.stderr).toContain(`optimizationId=${optimizationId}`);
  }, 330_000);

  it('serves the opportunities of the latest scan, ranked, without the traps rewritten', async () => {
    const res = await server.api.request('GET', `/v1/repos/${repoId}/opportunities`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ optimizationId, runId: stages[2].id });
    const found = res.body.opportunities.map((o: Json) => [o.rule, o.file]);
    expect(found).toContainEqual(['memoize-pure-function', 'src/fib.js']);
    const scores = res.body.opportunities.map((o: Json) => o.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('serves every candidate of the latest validation with its outcome and reason', async () => {
    const res = await server.api.request('GET', `/v1/repos/${repoId}/attempts`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ optimizationId, runId: stages[4].id });
    expect(res.body.attempts.length).toBeGreaterThan(0);
    for (const a of res.body.attempts) expect(a.reason).not.toBe('');
    const accepted = res.body.attempts.filter((a: Json) => a.outcome === 'accepted');
    expect(accepted.map((a: Json) => a.file)).toContain('src/fib.js');
    const missing = await server.api.request(
      'GET',
      `/v1/repos/${repoId}/attempts?optimizationId=run_nope`,
    );
    expect(missing.status).toBe(404);
  });

  it('lists the proposals and serves each with diff, metrics, timeline and artifact links', async () => {
    const list = await server.api.request('GET', `/v1/proposals?repoId=${repoId}`);
    expect(list.status, list.text).toBe(200);
    const rules = list.body.proposals.map((p: Json) => [p.rule, p.file]);
    for (const planted of [
      ['memoize-pure-function', 'src/fib.js'],
      ['no-accumulating-spread', 'src/collections.js'],
      ['spread-push-in-loop', 'src/collections.js'],
    ]) {
      expect(rules).toContainEqual(planted);
    }
    expect(list.body.proposals.some((p: Json) => p.file === 'src/traps.js')).toBe(false);

    const one = await server.api.request('GET', `/v1/proposals/${list.body.proposals[0].id}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ optimizationId, runId: stages[5].id, repoId });
    expect(one.body.diff).toMatch(/^diff --git a\//);
    expect(one.body.speedup).toBeGreaterThanOrEqual(0.03);
    expect(one.body.metrics[0].baseSamples).toBeGreaterThanOrEqual(4);
    expect(one.body.timeline.length).toBeGreaterThanOrEqual(3);
    const names = one.body.artifacts.map((a: Json) => a.name);
    for (const name of ['logs.txt', 'baseline.json', 'attempts.json', 'trace.json']) {
      expect(names).toContain(name);
    }

    // `patchbay optimize --apply` finds a server's proposal in the data dir's store.
    const target = gitRepo('lib-math');
    const applied = await runCli(['optimize', '--apply', one.body.id, '--repo', target], {
      env: { PATCHBAY_DATA_DIR: server.dataDir },
    });
    expect(applied.code, applied.stderr).toBe(0);
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: target, env: GIT_ENV }).toString().trim();
    // On its own branch; the checkout stays on main.
    const branch = `patchbay/${String(one.body.id).replace(/^prop_/, 'optimize-')}`;
    expect(applied.stdout).toContain(branch);
    expect(git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(git('diff', '--name-only', 'main', branch)).toBe(one.body.file);
    git('switch', '-q', branch);
    execFileSync(process.execPath, ['--test', 'test/'], { cwd: target });

    const page = await server.api.request('GET', `/v1/proposals?repoId=${repoId}&limit=1`);
    expect(page.body.proposals).toHaveLength(1);
    expect(page.body.nextCursor).toBe(page.body.proposals[0].id);
    const missing = await server.api.request('GET', '/v1/proposals/prop_nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('PROPOSAL_NOT_FOUND');
  });

  it('downloads artifacts with the token or an expiring signed URL, and refuses path tricks', async () => {
    const { body } = await server.api.request(
      'GET',
      `/v1/artifacts?optimizationId=${optimizationId}`,
    );
    const logs = body.artifacts.find((a: Json) => a.name === 'logs.txt');
    const trace = body.artifacts.find((a: Json) => a.name === 'trace.json');
    expect(logs).toMatchObject({ runId: stages[1].id, contentType: 'text/plain; charset=utf-8' });

    const direct = await server.api.request('GET', `/v1/artifacts/${logs.id}`);
    expect(direct.status).toBe(200);
    expect(direct.text).toContain('==> test:');
    expect(createHash('sha256').update(direct.text).digest('hex')).toBe(logs.sha256);
    const noToken = await fetch(`${server.url}/v1/artifacts/${logs.id}`);
    expect(noToken.status).toBe(401);

    // The merged trace spans every stage, each of which ran in its own process.
    const timeline = JSON.parse(
      (await server.api.request('GET', `/v1/artifacts/${trace.id}`)).text,
    );
    const cats = new Set(timeline.traceEvents.map((e: Json) => e.cat));
    for (const stage of ['detect', 'baseline', 'scan', 'validate']) expect(cats).toContain(stage);

    const signed = await server.api.request('GET', `/v1/artifacts/${logs.id}/url`);
    expect(signed.status, signed.text).toBe(200);
    expect(Date.parse(signed.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(signed.body.url).toBe(`${server.url}${signed.body.path}`);
    const viaUrl = await fetch(signed.body.url);
    expect(viaUrl.status).toBe(200);
    expect(await viaUrl.text()).toBe(direct.text);

    const tampered = signed.body.path.replace(
      /sig=(.)/,
      (_: string, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`,
    );
    const bad = await fetch(`${server.url}${tampered}`);
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as Json).error.code).toBe('ARTIFACT_URL_INVALID');
    // A URL for one artifact does not open another.
    const other = await fetch(`${server.url}${signed.body.path.replace(logs.id, trace.id)}`);
    expect(other.status).toBe(403);

    const short = await server.api.request('GET', `/v1/artifacts/${logs.id}/url?ttlSeconds=1`);
    await sleep(2100);
    const expired = await fetch(short.body.url);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as Json).error.message).toContain('expired');

    for (const path of [
      '/v1/artifacts/..%2F..%2Fetc%2Fpasswd',
      '/v1/artifacts/art_x%00y',
      '/v1/artifacts/%2e%2e',
      '/v1/signed/artifacts/..%2Fartifact-url.key?expires=9999999999&sig=' + '0'.repeat(64),
    ]) {
      const res = await rawGet(server.port, path, { authorization: `Bearer ${TOKEN}` });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body).error.code, path).toBe('ARTIFACT_PATH_INVALID');
    }
    const unknown = await server.api.request('GET', '/v1/artifacts/art_unknown');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ARTIFACT_NOT_FOUND');
  }, 30_000);

  it('stops at a red baseline: the stage fails with its code, keeps its logs, queues nothing more', async () => {
    const red = gitRepo('lib-math', (dir) =>
      writeFileSync(
        join(dir, 'test', 'red.test.js'),
        "import test from 'node:test';\nimport assert from 'node:assert';\ntest('red', () => assert.equal(1, 2));\n",
      ),
    );
    const repo = await server.api.request('POST', '/v1/repos', { path: red, name: 'red' });
    expect(repo.status, repo.text).toBe(201);
    const started = await server.api.request('POST', `/v1/repos/${repo.body.id}/optimize`, {
      samples: 3,
    });
    expect(started.status).toBe(202);
    const baseline = await waitFor(
      async () => {
        const runs: Json[] = (
          await server.api.request(
            'GET',
            `/v1/runs?parentId=${started.body.id}&kind=optimize.baseline`,
          )
        ).body.runs;
        return runs.find((r) => !['queued', 'running'].includes(r.status));
      },
      'the baseline stage to end',
      120_000,
      250,
    );
    expect(baseline.status).toBe('failed');
    expect(baseline.error.code).toBe('OPTIMIZE_BASELINE_FAILED');
    const artifacts = await server.api.request('GET', `/v1/artifacts?runId=${baseline.id}`);
    const logs = artifacts.body.artifacts.find((a: Json) => a.name === 'logs.txt');
    expect(logs).toBeDefined();
    expect((await server.api.request('GET', `/v1/artifacts/${logs.id}`)).text).toContain('red');
    await sleep(500);
    const all = await server.api.request('GET', `/v1/runs?parentId=${started.body.id}`);
    expect(all.body.runs.map((r: Json) => r.kind).sort()).toEqual([
      'optimize.baseline',
      'optimize.detect',
    ]);
  }, 150_000);

  it('a cancelled stage ends the optimization there', async () => {
    const started = await server.api.request('POST', `/v1/repos/${repoId}/optimize`, {
      samples: 20,
    });
    const baseline = await waitFor(
      async () =>
        (
          await server.api.request(
            'GET',
            `/v1/runs?parentId=${started.body.id}&kind=optimize.baseline`,
          )
        ).body.runs.find((r: Json) => r.status === 'running'),
      'the baseline stage to run',
      60_000,
      100,
    );
    const cancelled = await server.api.request('POST', `/v1/runs/${baseline.id}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    await server.api.waitForStatus(baseline.id, ['cancelled'], 20_000);
    await sleep(500);
    const all = await server.api.request('GET', `/v1/runs?parentId=${started.body.id}`);
    expect(all.body.runs.map((r: Json) => r.kind).sort()).toEqual([
      'optimize.baseline',
      'optimize.detect',
    ]);
  }, 90_000);

  it('refuses bad requests with stable codes', async () => {
    const unknown = await server.api.request('POST', '/v1/repos/repo_nope/optimize', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('REPO_NOT_FOUND');
    const bad = await server.api.request('POST', `/v1/repos/${repoId}/optimize`, { samples: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const extra = await server.api.request('POST', `/v1/repos/${repoId}/optimize`, { foo: 1 });
    expect(extra.status).toBe(400);
    const ref = await server.api.request('POST', `/v1/repos/${repoId}/optimize`, { ref: 'nope' });
    expect(ref.status).toBe(400);
    expect(ref.body.error.code).toBe('REPO_REF_NOT_FOUND');
    const opp = await server.api.request(
      'GET',
      `/v1/repos/${repoId}/opportunities?optimizationId=run_nope`,
    );
    expect(opp.status).toBe(404);
  });
});
