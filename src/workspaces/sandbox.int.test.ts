import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBwrap } from '../../test/helpers/services.js';
import { bwrapArgv, prepareAgentState, probeBwrap, type SandboxOptions } from './sandbox.js';

const bwrap = await requireBwrap();

describe.skipIf(!bwrap)('bwrap sandbox (real bubblewrap)', () => {
  let base: string;
  let dataDir: string;
  let workdir: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'patchbay-sandbox-'));
    dataDir = join(base, 'data');
    workdir = join(dataDir, 'worktrees', 'run_1');
    mkdirSync(workdir, { recursive: true });
    writeFileSync(join(dataDir, 'patchbay.db'), 'secret rows');
    server = createServer((_req, res) => res.end('reachable'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(base, { recursive: true, force: true });
  });

  async function sandboxed(script: string, options: Partial<SandboxOptions> = {}) {
    const argv = bwrapArgv(bwrap!, ['sh', '-c', script], {
      workdir,
      network: false,
      hide: [dataDir],
      readOnly: [],
      writable: [],
      ...options,
    });
    // Asynchronous: the test's own HTTP server must be able to answer while it runs.
    return new Promise<{ out: string; err: string }>((resolve) => {
      execFile(
        argv[0]!,
        argv.slice(1),
        { encoding: 'utf8', timeout: 15_000, env: { PATH: '/usr/bin:/bin' } },
        (_err, stdout, stderr) => resolve({ out: stdout.trim(), err: stderr.trim() }),
      );
    });
  }

  it('writes inside the workdir and cannot write anywhere else', async () => {
    // Somewhere on the host's disk (not /tmp, which is private inside the sandbox anyway).
    const outside = join(homedir(), `patchbay-escape-${process.pid}.txt`);
    const r = await sandboxed(
      `echo inside > inside.txt && pwd; echo x > ${outside}; echo "outside=$?"; echo y > /usr/escape 2>/dev/null; echo "usr=$?"`,
    );
    expect(r.out).toContain(workdir);
    expect(readFileSync(join(workdir, 'inside.txt'), 'utf8')).toBe('inside\n');
    expect(r.out).toMatch(/outside=[1-9]/);
    expect(r.out).toMatch(/usr=[1-9]/);
    expect(existsSync(outside)).toBe(false);
  });

  it('has a private /tmp that is gone afterwards', async () => {
    const marker = `patchbay-sandbox-marker-${process.pid}`;
    const r = await sandboxed(`echo hi > /tmp/${marker} && cat /tmp/${marker}`);
    expect(r.out).toBe('hi');
    expect(existsSync(join('/tmp', marker))).toBe(false);
  });

  it('hides the data dir except the workdir', async () => {
    const r = await sandboxed(
      `ls -A ${dataDir}; cat ${join(dataDir, 'patchbay.db')} 2>&1 || echo hidden`,
    );
    expect(r.out).not.toContain('secret rows');
    expect(r.out).toContain('hidden');
    expect(r.out.split('\n')).toContain('worktrees');
  });

  it('gives read-only access to listed paths inside a hidden directory', async () => {
    const gitDir = join(dataDir, 'repos', 'r', '.git');
    mkdirSync(gitDir, { recursive: true });
    writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
    const r = await sandboxed(`cat ${gitDir}/HEAD; echo x > ${gitDir}/HEAD; echo "write=$?"`, {
      readOnly: [gitDir],
    });
    expect(r.out).toContain('ref: refs/heads/main');
    expect(r.out).toMatch(/write=[1-9]/);
    expect(readFileSync(join(gitDir, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  });

  it('keeps writable state paths writable when they exist, and skips missing ones', async () => {
    const state = join(base, 'home', '.claude');
    mkdirSync(state, { recursive: true });
    const r = await sandboxed(`echo s > ${state}/session.json && echo ok`, {
      writable: [state, join(base, 'home', '.missing')],
    });
    expect(r.out).toBe('ok');
    expect(readFileSync(join(state, 'session.json'), 'utf8')).toBe('s\n');
  });

  it('has no capability, even when started by root, so its mounts stay as they are', async () => {
    const r = await sandboxed(
      [
        'grep CapEff /proc/self/status',
        'mount -o remount,rw / 2>/dev/null; echo "remount=$?"',
        `umount ${dataDir} 2>/dev/null; echo "umount=$?"`,
        `ls -A ${dataDir}`,
        'echo x > /etc/patchbay-escape 2>/dev/null; echo "etc=$?"',
      ].join('; '),
    );
    expect(r.out).toMatch(/CapEff:\s+0000000000000000/);
    expect(r.out).toMatch(/remount=[1-9]/);
    expect(r.out).toMatch(/umount=[1-9]/);
    expect(r.out).not.toContain('patchbay.db');
    expect(r.out).toMatch(/etc=[1-9]/);
    expect(existsSync('/etc/patchbay-escape')).toBe(false);
  });

  it('creates missing agent state on a fresh HOME and binds it writable', async () => {
    const home = join(base, 'fresh-home');
    mkdirSync(home);
    const state = await prepareAgentState(home, {
      dirs: ['.agent', '.config/agent'],
      files: { '.agent.json': '{}\n' },
    });
    expect(state.skipped).toEqual([]);
    expect(readFileSync(join(home, '.agent.json'), 'utf8')).toBe('{}\n');
    const r = await sandboxed(
      `echo s > ${home}/.agent/session && echo c > ${home}/.config/agent/c && echo '{"a":1}' > ${home}/.agent.json && echo ok; echo x > ${home}/other 2>/dev/null`,
      { writable: state.paths },
    );
    expect(r.out).toBe('ok');
    // HOME itself is not writable (here it is under the sandbox's private /tmp).
    expect(existsSync(join(home, 'other'))).toBe(false);
    expect(readFileSync(join(home, '.agent', 'session'), 'utf8')).toBe('s\n');
    expect(readFileSync(join(home, '.agent.json'), 'utf8')).toBe('{"a":1}\n');
    // An existing file is never reset.
    await prepareAgentState(home, { dirs: [], files: { '.agent.json': '{}\n' } });
    expect(readFileSync(join(home, '.agent.json'), 'utf8')).toBe('{"a":1}\n');
  });

  it('never binds a state path that a symlink leads elsewhere', async () => {
    const home = join(base, 'planted-home');
    mkdirSync(join(home, '.config'), { recursive: true });
    const target = join(base, 'elsewhere');
    mkdirSync(target);
    symlinkSync(target, join(home, '.agent'));
    symlinkSync(target, join(home, '.config', 'agent'));
    const state = await prepareAgentState(home, { dirs: ['.agent', '.config/agent'], files: {} });
    expect(state.paths).toEqual([]);
    expect(state.skipped.map((s) => s.path)).toEqual([
      join(home, '.agent'),
      join(home, '.config', 'agent'),
    ]);
    expect(await prepareAgentState('relative/home', { dirs: ['.a'], files: {} })).toEqual({
      paths: [],
      skipped: [],
    });
  });

  it('has its own PID namespace: it sees only its own processes', async () => {
    const r = await sandboxed(
      `ls /proc | grep -c '^[0-9]'; kill -0 ${process.pid} 2>/dev/null && echo sees-host || echo isolated`,
    );
    const [count, verdict] = r.out.split('\n');
    expect(Number(count)).toBeLessThan(10);
    expect(verdict).toBe('isolated');
  });

  it("cannot reach the host's Unix sockets under /run (a database, Docker, D-Bus)", async () => {
    const sockets = '/run/postgresql /var/run/postgresql /run/docker.sock /run/dbus';
    const r = await sandboxed(
      `for p in ${sockets}; do test -e $p && echo "seen $p"; done; echo done`,
    );
    expect(r.out).toBe('done');
  });

  it('cannot reach the network unless allowed', async () => {
    const fetchScript = `node -e "fetch('http://127.0.0.1:${port}/').then(r=>r.text()).then(t=>console.log(t),e=>console.log('blocked',e.cause?.code??e.message))"`;
    const blocked = await sandboxed(fetchScript);
    expect(blocked.out).toMatch(/^blocked/);
    const allowed = await sandboxed(fetchScript, { network: true });
    expect(allowed.out).toBe('reachable');
  });

  it('probes a working bwrap, and explains a broken one with SANDBOX_UNAVAILABLE', async () => {
    await expect(probeBwrap(bwrap!)).resolves.toMatch(/bubblewrap/);
    await expect(probeBwrap(join(base, 'no-such-bwrap'))).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
    });
  });
});
