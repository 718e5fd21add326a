/**
 * The README's quick start, end to end, as a newcomer runs it: a fresh `git clone` of this
 * checkout's committed HEAD (uncommitted work is not in it: the test says so), built as
 * `npm install` builds it, then every command of the README's "Quick start" code blocks in
 * order, read from README.md as written (`7070` becomes a free port, `run_01…` the id the
 * `curl` got), each checked against what the README says it does (its trailing comment).
 *
 * Fast on purpose: no registry install (node_modules is linked from this checkout) and npm
 * runs `--offline`. A command this test does not know makes it fail: teach it the check.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, waitFor } from '../e2e/helpers.js';

/** One command of the quick start, with the README's comments on it. */
interface QuickStartCommand {
  readonly line: string;
  /** The comment after it on its line, and the `# …` lines under it. */
  readonly notes: readonly string[];
}

/** Index of the `#` that starts a shell comment on `line` (outside quotes), or -1. */
function commentStart(line: string): number {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return i;
    }
  }
  return -1;
}

/** The commands of the README's "Quick start" section, in order. */
function quickStartCommands(readme: string): QuickStartCommand[] {
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Quick start" section');
  const commands: { line: string; notes: string[] }[] = [];
  for (const block of section.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    let pending = '';
    for (const raw of block[1]!.split('\n')) {
      const text = pending + raw;
      if (text.endsWith('\\')) {
        pending = text.slice(0, -1);
        continue;
      }
      pending = '';
      const at = commentStart(text);
      const code = (at < 0 ? text : text.slice(0, at)).trim();
      const note = at < 0 ? '' : text.slice(at + 1).trim();
      if (code) commands.push({ line: code, notes: note ? [note] : [] });
      else if (note) commands.at(-1)?.notes.push(note);
    }
  }
  return commands;
}

// HEAD's README, as the clone has it (not the working tree's: that is not what is tested).
const readme = execFileSync('git', ['show', 'HEAD:README.md'], { cwd: ROOT, encoding: 'utf8' });
const commands = quickStartCommands(readme);

describe('README quick start, end to end from a fresh clone of HEAD (slow: clone + build)', () => {
  const work = mkdtempSync(join(tmpdir(), 'patchbay-quick-start-'));
  const clone = join(work, 'clone');
  const home = join(work, 'home');
  let port = 0;
  let runId = '';
  let server: { pid: number; exited: Promise<unknown>; output: () => string } | undefined;

  /** A newcomer's shell: their PATH (no project's .bin), a fresh HOME, npm kept offline. */
  const env = (): NodeJS.ProcessEnv => ({
    PATH: (process.env.PATH ?? '')
      .split(delimiter)
      .filter((p) => !p.includes(`node_modules${'/'}.bin`))
      .join(delimiter),
    HOME: home,
    // Where the README's `7070` is: the default port of the server and of its clients.
    PATCHBAY_PORT: String(port),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });

  /** Runs `command` through sh in the clone with the README's placeholders filled in. */
  function sh(command: string, timeoutMs: number) {
    const filled = command.replaceAll('7070', String(port)).replaceAll('run_01…', runId);
    const res = spawnSync('sh', ['-c', filled], {
      cwd: clone,
      env: env(),
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    const shown = `$ ${filled}\nexit ${res.status} ${res.signal ?? ''}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`;
    return { code: res.status, stdout: res.stdout, stderr: res.stderr, shown };
  }

  beforeAll(() => {
    const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout;
    const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (head.status !== 0) throw new Error(`quick start test: ${ROOT} is not a git checkout`);
    console.warn(
      `\n!!! README quick start test: a fresh clone of HEAD (${head.stdout.trim()})` +
        (dirty.trim()
          ? ': your uncommitted changes are NOT tested, commit them first !!!\n'
          : ' !!!\n'),
    );
    const cloned = spawnSync('git', ['clone', '--quiet', ROOT, clone], { encoding: 'utf8' });
    expect(cloned.status, cloned.stderr).toBe(0);
    // What `npm install` would do, without the registry: the packages, then its build.
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(clone, 'node_modules'));
    const build = spawnSync('npm', ['run', '--silent', 'build'], {
      cwd: clone,
      env: env(),
      encoding: 'utf8',
    });
    expect(build.status, `npm run build in the clone:\n${build.stdout}\n${build.stderr}`).toBe(0);
  }, 180_000);

  afterAll(async () => {
    if (server) {
      // npx → sh → node: the whole group, started detached for this.
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-server!.pid, signal);
        } catch {
          // already gone
        }
      };
      signalGroup('SIGTERM');
      const gone = await Promise.race([
        server.exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!gone) signalGroup('SIGKILL');
    }
    rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('the README has a quick start with commands', () => {
    expect(commands.map((c) => c.line)).toContain('npx patchbay serve');
  });

  it('a fresh `npm install` leaves package-lock.json as committed (offline check)', (ctx) => {
    // A clone of its own with no node_modules: npm writes its hidden lock file in there, and
    // the linked one is this checkout's. The real npm cache (not the fresh HOME): offline,
    // npm reads package metadata only from it.
    const bare = join(work, 'lock-clone');
    expect(spawnSync('git', ['clone', '--quiet', ROOT, bare]).status).toBe(0);
    const res = spawnSync(
      'npm',
      ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit'],
      { cwd: bare, encoding: 'utf8', env: { ...process.env, npm_config_fund: 'false' } },
    );
    if (res.status !== 0 && /ENOTCACHED/.test(res.stderr)) {
      console.warn('\n!!! SKIPPING the lock check: it needs packages not in the npm cache !!!\n');
      ctx.skip();
    }
    expect(res.status, res.stderr).toBe(0);
    const status = spawnSync('git', ['status', '--porcelain'], { cwd: bare, encoding: 'utf8' });
    expect(status.stdout, 'npm install changed these files of a fresh clone').toBe('');
  }, 60_000);

  for (const { line, notes } of commands) {
    const note = notes.join(' ');
    it(`\`${line}\`${note ? `  # ${note}` : ''}`, async () => {
      if (/^npm install\b/.test(line)) return; // done before: linked packages, then the build
      if (/^npm test\b/.test(line)) return; // this test is part of it
      if (/^npx patchbay serve$/.test(line)) {
        port = await freePort();
        const child = spawn('sh', ['-c', line], {
          cwd: clone,
          env: env(),
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        const exited = new Promise((r) => child.on('exit', r));
        server = { pid: child.pid!, exited, output: () => output };
        await waitFor(
          async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200,
          `\`${line}\` to answer /health on port ${port}; its output:\n${output}`,
          30_000,
          100,
        );
        if (/~\/\.patchbay/.test(note)) expect(existsSync(join(home, '.patchbay'))).toBe(true);
        return;
      }
      const res = sh(line, 30_000);
      const reply = /^→ \d{3} (\{.*\})$/.exec(note);
      if (reply) {
        // `{"id":"run_01…","status":"queued",…}`: each field, `…` standing for the rest.
        const body = JSON.parse(res.stdout) as Record<string, unknown>;
        for (const [, key, value] of reply[1]!.matchAll(/"(\w+)":"([^"]*)"/g)) {
          const [prefix, more] = value!.split('…');
          const got = String(body[key!]);
          expect(more === undefined ? got : got.slice(0, prefix!.length), res.shown).toBe(prefix);
        }
        if (typeof body.id === 'string') runId = body.id;
        return;
      }
      const printed = /^prints (.*?), then /.exec(note);
      if (printed) {
        expect(res.code, res.shown).toBe(0);
        const lines = printed[1]!.split(', ');
        const at = lines.map((l) => res.stdout.indexOf(`${l}\n`));
        expect(
          at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1]!)),
          res.shown,
        ).toBe(true);
        return;
      }
      if (/^\d+$/.test(note) && /; echo \$\?$/.test(line)) {
        expect(res.stdout.trimEnd().split('\n').at(-1), res.shown).toBe(note);
        return;
      }
      const echoed = /^npx patchbay run -- echo (\w+)$/.exec(line);
      if (echoed) {
        expect(res.code, res.shown).toBe(0);
        expect(res.stdout, res.shown).toBe(`${echoed[1]}\n`);
        return;
      }
      throw new Error(
        `the README's quick start has a command this test cannot check: \`${line}\` ` +
          '(teach test/tooling/quick-start.test.ts what it should do)',
      );
    }, 40_000);
  }
});
