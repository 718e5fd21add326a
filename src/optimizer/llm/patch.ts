/**
 * A patch written by the model for one LLM-found opportunity, held to what a template's patch
 * is held to: edits located without line numbers (exact, then the tolerance ladder, always one
 * unique place), at most 5 files and 200 lines, only the repository's own source, every touched
 * file still parsing. An edit the ladder cannot place goes back to the model once with the
 * reason; a second miss rejects the opportunity. Validation (tests, then the statistical proof)
 * happens later, exactly as for a template.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isPatchbayError, type LlmReasoning, type Opportunity } from '../../contracts/index.js';
import { applyEdits as applyModelEdits, type LlmMessage } from '../../llm/index.js';
import {
  checkConstraints,
  countChangedLines,
  forbiddenReason,
  MAX_FILES,
  syntaxError,
  unifiedDiff,
} from '../patch/index.js';
import type { PatchOutcome } from '../patch/index.js';
import type { Trace } from '../trace.js';
import { parseAnswer, reasoningOf } from './answer.js';
import { fatal, type LlmCallScope } from './discover.js';
import { numbered, systemPrompt } from './prompts.js';
import type { Framework } from '../../contracts/index.js';

const PatchAnswer = z.object({
  explanation: z.string().min(1),
  edits: z
    .array(z.object({ path: z.string().min(1), oldText: z.string(), newText: z.string() }))
    .min(1)
    .max(20),
});

export interface LlmPatchOptions {
  root: string;
  framework: Framework;
  opportunity: Opportunity;
  llm: LlmCallScope;
  trace: Trace;
}

const refused =
  (code: 'GUARD_FAILED' | 'PATCH_FORBIDDEN_FILE' | 'PATCH_DOES_NOT_APPLY') =>
  (message: string): PatchOutcome => ({ rejected: { code, message } });

/**
 * @throws PatchbayError from the model call (LLM_*, BUDGET_EXCEEDED): the caller decides
 * whether the stage goes on.
 */
export async function patchWithLlm(opts: LlmPatchOptions): Promise<PatchOutcome> {
  const { root, opportunity: o, llm, trace } = opts;
  const where = `${o.file}:${o.line}`;
  const original = await readFile(`${root}/${o.file}`, 'utf8');
  const purpose = 'optimizer.patch';
  const messages: LlmMessage[] = [
    { role: 'system', content: systemPrompt(opts.framework) },
    {
      role: 'user',
      content: [
        `Write the change for this opportunity in ${o.file} (lines ${o.line}-${o.endLine}): ${o.rationale}${o.expectedEffect ? ` Expected: ${o.expectedEffect}` : ''}`,
        'Answer {"explanation": "what changed and why it is faster", "edits": [{"path": "file", "oldText": "text copied exactly from the file, enough lines to be unique", "newText": "its replacement"}]}. Keep behaviour identical; do not touch tests or configuration.',
        `# ${o.file}\n\n${numbered(original)}`,
      ].join('\n\n'),
    },
  ];
  const evidence: LlmReasoning[] = [...(o.llmReasoning ?? [])];
  for (let attempt = 1; ; attempt++) {
    const result = await trace.span('patch', `${purpose} ${where}`, () =>
      llm.client.complete({
        purpose,
        runId: llm.runId ?? null,
        repoId: llm.repoId ?? null,
        ...(llm.model ? { model: llm.model } : {}),
        messages,
      }),
    );
    const answer = parseAnswer(result, PatchAnswer, `the patch for ${where}`);
    evidence.push(reasoningOf(purpose, result, answer.explanation));
    const outcome = await toCandidate(root, o, answer, evidence);
    const retry =
      'rejected' in outcome && outcome.rejected.code === 'PATCH_DOES_NOT_APPLY' && attempt < 2;
    if (!retry) return outcome;
    trace.mark('patch', `${where}: edits did not apply, asking again`);
    messages.push(
      { role: 'assistant', content: result.text },
      {
        role: 'user',
        content: `Your edits could not be applied, so nothing changed:\n${'rejected' in outcome ? outcome.rejected.message : ''}\nAnswer again with the whole patch in the same JSON shape.`,
      },
    );
  }
}

async function toCandidate(
  root: string,
  o: Opportunity,
  answer: z.infer<typeof PatchAnswer>,
  evidence: LlmReasoning[],
): Promise<PatchOutcome> {
  const paths = [...new Set(answer.edits.map((e) => e.path.replace(/^\.\//, '')))];
  if (paths.length > MAX_FILES) {
    return {
      rejected: {
        code: 'PATCH_TOO_LARGE',
        message: `${paths.length} files (at most ${MAX_FILES})`,
      },
    };
  }
  for (const path of paths) {
    const why = forbiddenReason(path);
    if (why) return refused('PATCH_FORBIDDEN_FILE')(`${path} is ${why}`);
  }
  const before = new Map<string, string>();
  for (const path of paths) {
    try {
      before.set(path, await readFile(`${root}/${path}`, 'utf8'));
    } catch {
      return refused('PATCH_DOES_NOT_APPLY')(`${path} does not exist (a patch only edits files)`);
    }
  }
  const applied = applyModelEdits(
    before,
    answer.edits.map((e) => ({ ...e, path: e.path.replace(/^\.\//, '') })),
  );
  if (!applied.ok) return refused('PATCH_DOES_NOT_APPLY')(applied.message);
  let diff = '';
  for (const [path, after] of applied.files) {
    const was = before.get(path)!;
    const broken = await syntaxError(path, after);
    if (broken && !(await syntaxError(path, was))) {
      return refused('GUARD_FAILED')(
        `${path} no longer parses after the model's edits (${broken})`,
      );
    }
    if (after !== was) diff += unifiedDiff(path, was, after);
  }
  if (diff === '') return refused('GUARD_FAILED')("the model's edits change nothing");
  const files = [...applied.files.keys()].filter((p) => applied.files.get(p) !== before.get(p));
  const candidate = {
    id: `cand_${createHash('sha256').update(`llm\0${o.file}\0${diff}`).digest('hex').slice(0, 16)}`,
    rule: o.rule,
    file: o.file,
    line: o.line,
    diff,
    explanation: answer.explanation,
    files,
    changedLines: countChangedLines(diff),
    llmReasoning: evidence,
  };
  const violation = checkConstraints(candidate);
  return violation ? { rejected: violation } : { candidate };
}

/** The model's patch; a call that fails costs the opportunity, unless no call can succeed. */
export async function patchOrRefusal(opts: LlmPatchOptions): Promise<PatchOutcome> {
  try {
    return await patchWithLlm(opts);
  } catch (err) {
    if (isPatchbayError(err) && fatal.has(err.code)) throw err;
    const code = isPatchbayError(err) ? err.code : 'INTERNAL_ERROR';
    return {
      rejected: {
        code: 'GUARD_FAILED',
        message: `the model wrote no patch: ${code}: ${(err as Error).message}`,
      },
    };
  }
}
