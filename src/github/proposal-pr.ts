import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredProposal } from '../contracts/index.js';
import { commitAll, git, type GitOptions } from '../workspaces/index.js';
import type { GithubClient } from './client.js';
import type { CommitIdentity } from './identity.js';
import { PATCHBAY_MARKER } from './pull-request-body.js';
import { pushRunBranch } from './push.js';

/**
 * A speedup said one way only: `1.74× faster, −42.5 % time` (the candidate's median time over
 * the baseline's), so "42 % faster" can never be read two ways.
 */
export function speedupText(baseNs: number, candidateNs: number): string {
  if (!(baseNs > 0) || !(candidateNs > 0)) return 'no measured change';
  const ratio = baseNs / candidateNs;
  const change = ((candidateNs - baseNs) / baseNs) * 100;
  const sign = change < 0 ? '−' : '+';
  const word = ratio >= 1 ? 'faster' : 'slower';
  const factor = ratio >= 1 ? ratio : 1 / ratio;
  return `${factor.toFixed(2)}× ${word}, ${sign}${Math.abs(change).toFixed(1)} % time`;
}

const ns = (v: number): string =>
  v >= 1e6
    ? `${(v / 1e6).toFixed(2)} ms`
    : v >= 1e3
      ? `${(v / 1e3).toFixed(2)} µs`
      : `${v.toFixed(1)} ns`;

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/** The pull request body of an optimizer proposal: the change, then every piece of evidence. */
export function proposalBody(
  p: Omit<StoredProposal, 'artifacts'>,
  options: { runUrl: string | null; machine: string },
): string {
  const best = [...p.metrics].sort((a, b) => b.lowerBoundSpeedup - a.lowerBoundSpeedup)[0];
  const lines = [PATCHBAY_MARKER, `### ${p.summary}`, ''];
  if (best)
    lines.push(
      `**${speedupText(best.baseMedianNs, best.candidateMedianNs)}** on \`${best.benchmark}\`.`,
      '',
    );
  lines.push(
    p.explanation,
    '',
    `Rule \`${p.rule}\` at \`${p.file}:${p.line}\` · risk ${p.risk} · confidence ${p.confidence}`,
    '',
  );
  lines.push('### Evidence', '');
  if (p.metrics.length > 0) {
    lines.push(
      '| benchmark | baseline median | candidate median | n (base / cand) | speedup | proven at least (one-sided CI) | p |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...p.metrics.map(
        (m) =>
          `| ${m.benchmark} | ${ns(m.baseMedianNs)} | ${ns(m.candidateMedianNs)} | ${m.baseSamples} / ${m.candidateSamples} | ${speedupText(m.baseMedianNs, m.candidateMedianNs)} | ${pct(m.lowerBoundSpeedup)} less time (bar ${pct(m.threshold)}) | ${m.pValue.toExponential(2)} |`,
      ),
      '',
    );
  } else {
    lines.push(
      'No benchmark measured this change (a safe refactor: it builds and the tests pass).',
      '',
    );
  }
  lines.push(
    `Noise floor of the repository's benchmarks: ${pct(p.evidence.noiseFloor)} · samples per side: ${p.evidence.samples} · α = ${p.evidence.alpha}`,
    `Machine: ${options.machine} · Node ${p.evidence.node} · base commit \`${p.evidence.commit}\``,
    '',
    '### Reproduce',
    '',
    '```sh',
    `git checkout ${p.evidence.commit}`,
    `patchbay optimize --repo <repo id>   # or re-run the benchmark${p.metrics.length === 1 ? '' : 's'} above on both commits`,
    `git checkout <this branch>`,
    '```',
    '',
    '### Attempts',
    '',
    '| rule | where | outcome | why |',
    '| --- | --- | --- | --- |',
    ...p.timeline.map(
      (t) =>
        `| ${t.rule} | ${t.file}:${t.line} | ${t.outcome} | ${t.reason.replace(/\|/g, '\\|')} |`,
    ),
    '',
    options.runUrl
      ? `Optimization run [\`${p.optimizationId}\`](${options.runUrl})`
      : `Optimization run \`${p.optimizationId}\``,
  );
  return lines.join('\n');
}

/**
 * Opens (or finds) the pull request of a proposal: its diff applied on the commit it was
 * measured on, committed by Patchbay on `patchbay/optimize-<proposal id>`, pushed, and a PR
 * whose body carries the evidence. Ready for review when the speedup is proven, draft otherwise.
 */
export async function openProposalPullRequest(args: {
  proposal: Omit<StoredProposal, 'artifacts'>;
  repo: { path: string; defaultBranch: string; github: string };
  github: GithubClient;
  git: GitOptions;
  runUrl: string | null;
  machine: string;
  /** Who the commit is by (the App's bot; default Patchbay). */
  author?: CommitIdentity;
}): Promise<{ number: number; url: string; branch: string; draft: boolean }> {
  const { proposal, repo, github } = args;
  const full = repo.github;
  const branch = `patchbay/optimize-${proposal.id.toLowerCase()}`;
  const owner = full.split('/')[0]!;
  type Pr = { number: number; html_url: string; draft?: boolean };
  const open = await github.rest<Pr[]>(
    full,
    'GET',
    `/repos/${full}/pulls?state=open&head=${encodeURIComponent(`${owner}:${branch}`)}`,
  );
  if (open[0])
    return { number: open[0].number, url: open[0].html_url, branch, draft: open[0].draft ?? false };
  const dir = await mkdtemp(join(tmpdir(), 'patchbay-proposal-'));
  const tree = join(dir, 'tree');
  try {
    await git(['worktree', 'add', '--detach', tree, proposal.evidence.commit], repo.path, args.git);
    await writeFile(join(dir, 'change.diff'), proposal.diff);
    await git(['apply', '--whitespace=nowarn', join(dir, 'change.diff')], tree, args.git);
    const commit = await commitAll(
      tree,
      `perf: ${proposal.summary}\n\nProposal ${proposal.id} of optimization ${proposal.optimizationId}.`,
      args.git,
      ['.'],
      args.author,
    );
    if (!commit) throw new Error('the proposal changes nothing on its commit');
    await pushRunBranch({
      repoPath: repo.path,
      commit,
      localBranch: branch,
      remoteBranch: branch,
      defaultBranch: repo.defaultBranch,
      url: github.cloneUrl(full),
      token: await github.gitToken(full),
      git: args.git,
      ...(args.author && { author: args.author }),
    });
  } finally {
    await git(['worktree', 'remove', '--force', tree], repo.path, args.git).catch(() => '');
    await rm(dir, { recursive: true, force: true });
  }
  const draft = proposal.confidence !== 'proven';
  const created = await github.rest<Pr>(full, 'POST', `/repos/${full}/pulls`, {
    title: `perf: ${proposal.summary}`.slice(0, 120),
    head: branch,
    base: repo.defaultBranch,
    body: proposalBody(proposal, { runUrl: args.runUrl, machine: args.machine }),
    draft,
  });
  return { number: created.number, url: created.html_url, branch, draft };
}
