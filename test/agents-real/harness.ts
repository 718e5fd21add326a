/**
 * The contract suite's shared pieces: where the pinned real CLIs are, a HOME of their own per
 * test, and `patchbay serve` started the way a user starts it (the e2e helpers). A CLI that is
 * not installed skips its tests with a loud message, and fails them with CI=true.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Api, Run } from '../e2e/helpers.js';

export const HERE = dirname(fileURLToPath(import.meta.url));

export type RealCli = 'claude' | 'codex' | 'gemini';

const PACKAGES: Record<RealCli, string> = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  gemini: '@google/gemini-cli',
};

/** The version this suite pins for `cli` (test/agents-real/package.json). */
export function pinnedVersion(cli: RealCli): string {
  const pkg = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return pkg.dependencies[PACKAGES[cli]]!;
}

/**
 * The pinned CLI's executable, or undefined when it is not installed (a warning outside CI;
 * with CI=true, an error: `npm run test:agents-real` installs them).
 */
export function realCliBin(cli: RealCli): string | undefined {
  const bin = join(HERE, 'node_modules', '.bin', cli);
  if (existsSync(bin)) return bin;
  const message = `agents-real: ${PACKAGES[cli]}@${pinnedVersion(cli)} is not installed in ${HERE}; run \`npm run test:agents-real\` from the repository root`;
  if (process.env.CI === 'true') throw new Error(message);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n\n`);
  return undefined;
}

/** A fresh HOME (and XDG dirs inside it) for one test: no login, no settings of the machine's. */
export function freshHome(prefix = 'patchbay-agents-real-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  for (const dir of ['.config', '.cache', '.local/share', '.local/state']) {
    mkdirSync(join(home, dir), { recursive: true });
  }
  return home;
}

/**
 * The mark a case puts in its prompt so the scripted servers answer it from its own script:
 * each server keys its scripts by the last mark in a request's newest user text (a resumed
 * conversation also carries its earlier prompts and their marks), so a run that is slow, stuck
 * or never asks can neither consume nor shift another case's turns.
 */
export const caseTag = (name: string): string => `[case:${name}]`;

/** The case named by the last mark in `texts` (newest last), or undefined. */
export function caseOf(texts: readonly string[]): string | undefined {
  for (let i = texts.length - 1; i >= 0; i--) {
    const marks = [...texts[i]!.matchAll(/\[case:([^\]]+)\]/g)];
    if (marks.length > 0) return marks.at(-1)![1];
  }
  return undefined;
}

/** Per-case FIFO queues of scripted answers. */
export class CaseScripts<T> {
  private readonly queues = new Map<string, T[]>();

  add(name: string, items: readonly T[]): void {
    this.queues.set(name, [...(this.queues.get(name) ?? []), ...items]);
  }

  /** The next answer scripted for `name`, if any. */
  next(name: string | undefined): T | undefined {
    return name === undefined ? undefined : this.queues.get(name)?.shift();
  }

  /** Answers not consumed yet: of one case, or of all. */
  pending(name?: string): number {
    if (name !== undefined) return this.queues.get(name)?.length ?? 0;
    return [...this.queues.values()].reduce((n, q) => n + q.length, 0);
  }

  clear(): void {
    this.queues.clear();
  }
}

interface RunEventLike {
  seq: number;
  type: string;
  ts: string;
  data: Record<string, unknown>;
}

/**
 * What a run did, from GET /v1/runs/:id/events: one line per event (its output text, its
 * status, its messages), for a failure message. Empty output is the clue too: a CLI that
 * printed nothing never got past its own startup.
 */
export function transcript(events: readonly RunEventLike[], max = 6000): string {
  const lines = events.map((e) => {
    const text =
      e.type === 'output'
        ? `${String(e.data.stream)}: ${String(e.data.text)}`
        : JSON.stringify(e.data);
    return `  #${e.seq} ${e.ts} ${e.type} ${text.trimEnd()}`;
  });
  const printed = events.filter((e) => e.type === 'output').length;
  const all = [`events (${events.length}, ${printed} of output):`, ...lines].join('\n');
  return all.length > max ? `${all.slice(0, max / 2)}\n  …\n${all.slice(-max / 2)}` : all;
}

/**
 * The run once it has ended, within `ms`; on a timeout the error carries the run's transcript
 * (what the CLI printed, read over the HTTP API), so a CI failure says where the CLI was.
 */
export async function finished(api: Api, id: string, ms: number): Promise<Run> {
  try {
    return await api.waitForStatus(id, undefined, ms);
  } catch (err) {
    const events = await api.events(id).catch((e: Error) => e);
    const told =
      events instanceof Error ? `(events unreadable: ${events.message})` : transcript(events);
    throw new Error(`${(err as Error).message}\n${told}`, { cause: err });
  }
}

/**
 * How long `patchbay serve` may take to answer /health here: its start shares the box with the
 * CLIs of the other file's cases (two workers), which is slower than the e2e default of 15 s
 * on a loaded 2-core machine. Below the suite's 60 s hook timeout.
 */
export const SERVE_START_MS = 45_000;
