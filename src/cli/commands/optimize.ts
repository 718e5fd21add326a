import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PatchbayError } from '../../contracts/index.js';
import type { OptimizeProgress, OptimizeResult } from '../../optimizer/index.js';
import { ulid } from '../../store/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

interface OptimizeFlags {
  bench?: string;
  test?: string;
  maxCandidates?: string;
  maxProposals?: string;
  maxMinutes?: string;
  minSpeedup?: string;
  samples?: string;
  json?: boolean;
  apply?: string;
  repo?: string;
}

/** A positive number from a flag, or a VALIDATION_FAILED naming the flag. */
function numberFlag(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new PatchbayError('VALIDATION_FAILED', `--${name} must be a number in [${min}, ${max}]`, {
      problems: [{ path: name, message: `got ${value}` }],
    });
  }
  return n;
}

const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

function progressLine(p: OptimizeProgress): string {
  const k = p.candidate ? ` candidate ${p.candidate.index}/${p.candidate.total}` : '';
  const eta = p.etaMs !== undefined ? `, ETA ${duration(p.etaMs)}` : '';
  return `[${duration(p.elapsedMs)}] ${p.stage}${k}: ${p.message}${eta}`;
}

function printSummary(result: OptimizeResult): void {
  const counts = { accepted: 0, rejected: 0, 'safe-refactor': 0 };
  for (const a of result.attempts) counts[a.outcome]++;
  out.line(
    `${result.opportunities.length} opportunities, ${result.attempts.length} attempts: ${counts.accepted} accepted, ${counts['safe-refactor']} safe refactor, ${counts.rejected} rejected (A/A noise floor ${(result.noiseFloor * 100).toFixed(1)}%)`,
  );
  if (result.proposals.length === 0) {
    out.line('no proposal: no candidate proved a speedup beyond the noise');
  } else {
    out.line('');
    out.line(
      'proposal                    speedup ≥   p        rule                          where',
    );
    for (const p of result.proposals) {
      const best = p.metrics.reduce((a, m) => (m.lowerBoundSpeedup > a.lowerBoundSpeedup ? m : a));
      out.line(
        `${p.id.padEnd(27)} ${`${(p.speedup * 100).toFixed(1)}%`.padStart(8)}   ${best.pValue.toExponential(1).padEnd(8)} ${p.rule.padEnd(29)} ${p.file}:${p.line}`,
      );
    }
    out.line('');
    out.line(`apply one: patchbay optimize --apply <proposal> [--repo <path>]`);
  }
  for (const a of result.attempts.filter((x) => x.outcome !== 'accepted')) {
    out.note(
      `${a.opportunity.rule} ${a.opportunity.file}:${a.opportunity.line}: ${a.outcome}: ${a.reason}`,
    );
  }
  out.note(`artifacts: ${result.artifactsDir}`);
}

export function registerOptimize(program: Command): void {
  program
    .command('optimize')
    .description(
      'Find performance fixes in a JS/TS repository and prove each speedup (offline, deterministic templates)',
    )
    .argument('[path-or-url]', 'the repository (default: the current directory)')
    .option('--bench <cmd>', 'benchmark command (default: detected)')
    .option('--test <cmd>', 'test command (default: detected)')
    .option('--max-candidates <n>', 'candidates validated at most', '10')
    .option('--max-proposals <n>', 'proposals kept at most', '5')
    .option('--max-minutes <n>', 'stop taking candidates after this long', '60')
    .option('--min-speedup <percent>', 'smallest speedup worth proposing, in %', '3')
    .option('--samples <n>', 'benchmark processes per side (base and candidate)', '20')
    .option('--json', 'print the proposals as JSON')
    .option('--apply <proposal>', 'apply a proposal on a new branch of --repo')
    .option('--repo <path>', 'with --apply: the repository (default: the current directory)')
    .action(async (target: string | undefined, flags: OptimizeFlags, command: Command) => {
      const ctx = createContext(command);
      const env = ctx.config.childEnvBase;
      if (flags.apply) {
        const { applyProposal, findProposal } = await import('../../optimizer/index.js');
        const proposal = await findProposal(ctx.config.dataDir, flags.apply);
        const patch = join(ctx.config.dataDir, 'optimizer', `${proposal.id}.diff`);
        const branch = await applyProposal(proposal, resolve(flags.repo ?? '.'), patch, env);
        out.line(`applied ${proposal.id} on branch ${branch}`);
        return;
      }
      const log = ctx.logger('warn');
      // Loaded here: no other command (a server least of all) needs the optimizer in memory.
      const { optimize } = await import('../../optimizer/index.js');
      const interactive = process.stderr.isTTY && !flags.json;
      const result = await optimize({
        source: target ?? '.',
        runDir: join(ctx.config.dataDir, 'optimizer', `opt_${ulid()}`),
        env,
        log,
        ...(flags.bench ? { bench: flags.bench } : {}),
        ...(flags.test ? { test: flags.test } : {}),
        maxCandidates: numberFlag('max-candidates', flags.maxCandidates, 1, 1000),
        maxProposals: numberFlag('max-proposals', flags.maxProposals, 1, 1000),
        maxMinutes: numberFlag('max-minutes', flags.maxMinutes, 1, 24 * 60),
        minSpeedup: (numberFlag('min-speedup', flags.minSpeedup, 0, 1000) ?? 3) / 100,
        samples: numberFlag('samples', flags.samples, 3, 1000),
        onProgress: (p) => {
          if (interactive) out.stderr(`\r\x1b[2K${progressLine(p)}`);
          else if (!flags.json) out.note(progressLine(p));
        },
      });
      if (interactive) out.stderr('\n');
      if (flags.json) out.json(result.proposals);
      else printSummary(result);
    });
}
