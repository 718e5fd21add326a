/** One validation gate as a run records it (see the validation step). */
export interface GateResult {
  gate: string;
  status: string;
  durationMs?: number | null;
  logArtifact?: string | null;
}

export interface PullRequestFacts {
  runId: string;
  /** What was asked (the prompt of each run delivered to this branch). */
  asked: string;
  /** The agent's final answer. */
  answer: string | null;
  gates: readonly GateResult[] | undefined;
  usage: { input: number; output: number } | null;
  costUsd: number | null;
  /** Link to the run on this server, when its public URL is known. */
  runUrl: string | null;
  /** Where the request came from on GitHub (`#12`), if it did. */
  origin?: string;
}

/** Ready for review only when every gate passed; no gates counts as passed. */
export function allGatesPassed(gates: readonly GateResult[] | undefined): boolean {
  return (gates ?? []).every((g) => g.status === 'passed' || g.status === 'skipped');
}

const quote = (text: string, max = 4000): string => {
  const t = text.length > max ? `${text.slice(0, max)}\n…(truncated)` : text;
  return t
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
};

/** The marker that tells a Patchbay pull request (and status comment) apart. */
export const PATCHBAY_MARKER = '<!-- patchbay -->';

/** The pull request title: the first line of what was asked. */
export function pullRequestTitle(asked: string): string {
  const first = asked.trim().split('\n')[0] ?? 'Patchbay run';
  return first.length > 72 ? `${first.slice(0, 71)}…` : first || 'Patchbay run';
}

/** The body: what was asked, what the agent answered, the gates, usage and cost, the run. */
export function pullRequestBody(facts: PullRequestFacts): string {
  const lines = [PATCHBAY_MARKER, '### What was asked', '', quote(facts.asked), ''];
  if (facts.origin) lines.push(`Asked in ${facts.origin}.`, '');
  lines.push('### What the agent did', '', facts.answer?.trim() || '_(no final answer)_', '');
  lines.push('### Validation', '', ...gateLines(facts.gates), '');
  lines.push('### Usage', '', usageLine(facts), '');
  lines.push(facts.runUrl ? `Run [\`${facts.runId}\`](${facts.runUrl})` : `Run \`${facts.runId}\``);
  return lines.join('\n');
}

export function gateLines(gates: readonly GateResult[] | undefined): string[] {
  if (!gates || gates.length === 0) return ['No validation gates ran.'];
  return [
    '| gate | result | time |',
    '| --- | --- | --- |',
    ...gates.map(
      (g) =>
        `| ${g.gate} | ${g.status === 'passed' ? '✅ passed' : g.status === 'failed' ? '❌ failed' : g.status} | ${g.durationMs != null ? `${(g.durationMs / 1000).toFixed(1)} s` : '–'} |`,
    ),
  ];
}

function usageLine(facts: PullRequestFacts): string {
  const parts: string[] = [];
  if (facts.usage) parts.push(`${facts.usage.input} input tokens, ${facts.usage.output} output`);
  parts.push(facts.costUsd !== null ? `$${facts.costUsd.toFixed(4)}` : 'cost not reported');
  return parts.join(' · ');
}

/** The status comment on the issue or pull request a run was asked from. */
export function statusComment(state: {
  status: 'working' | 'succeeded' | 'failed';
  runId: string;
  runUrl: string | null;
  answer?: string | null;
  error?: string | null;
  gates?: readonly GateResult[];
  pullRequestUrl?: string | null;
  branch?: string | null;
}): string {
  const run = state.runUrl ? `[\`${state.runId}\`](${state.runUrl})` : `\`${state.runId}\``;
  if (state.status === 'working') return `${PATCHBAY_MARKER}\n⏳ Patchbay is working… (run ${run})`;
  const lines = [
    PATCHBAY_MARKER,
    state.status === 'succeeded'
      ? `✅ Patchbay finished (run ${run}).`
      : `❌ Patchbay run ${run} failed.`,
    '',
  ];
  if (state.error) lines.push(`Error: ${state.error}`, '');
  if (state.answer) lines.push(quote(state.answer, 2000), '');
  if (state.gates) lines.push(...gateLines(state.gates), '');
  if (state.pullRequestUrl) lines.push(`Pull request: ${state.pullRequestUrl}`);
  else if (state.branch) lines.push(`Branch: \`${state.branch}\``);
  return lines.join('\n');
}

/** `patchbay/<slug>-<run id>`: a few words of the request, then the run. */
export function runBranchName(asked: string, runId: string): string {
  const slug = (asked.trim().split('\n')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .split('-')
    .slice(0, 5)
    .join('-')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `patchbay/${slug ? `${slug}-` : ''}${runId.toLowerCase()}`;
}
