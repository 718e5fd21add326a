/**
 * Lints action/action.yml, the composite GitHub Action that runs a Patchbay run in a job: it
 * parses, has what GitHub requires of an action, references only inputs it declares, gives
 * every `run` step a shell, and never pastes an expression into a script (inputs reach
 * scripts through `env`, so a prompt cannot inject shell).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../e2e/helpers.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  if?: string;
}

const text = readFileSync(join(ROOT, 'action', 'action.yml'), 'utf8');
const action = parse(text) as {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: Step[] };
};

describe('action/action.yml', () => {
  it('is a composite action with a name, a description and described inputs', () => {
    expect(action.name).toBeTruthy();
    expect(action.description).toBeTruthy();
    expect(action.runs.using).toBe('composite');
    expect(action.inputs.prompt?.required).toBe(true);
    for (const key of ['agent', 'run-id', 'report-url', 'report-secret']) {
      expect(action.inputs[key], key).toBeDefined();
    }
    for (const [key, input] of Object.entries(action.inputs)) {
      expect(input.description, key).toBeTruthy();
      if (!input.required) expect(input.default, `${key} needs a default`).toBeDefined();
    }
    for (const output of Object.values(action.outputs)) expect(output.value).toMatch(/\$\{\{/);
  });

  it('gives every run step a shell and uses only declared inputs', () => {
    for (const step of action.runs.steps) {
      expect(step.run !== undefined || step.uses !== undefined, step.name).toBe(true);
      if (step.run !== undefined) expect(step.shell, step.name).toBe('bash');
    }
    const used = [...text.matchAll(/inputs\.([A-Za-z0-9_-]+)/g)].map((m) => m[1]!);
    for (const name of used) expect(Object.keys(action.inputs)).toContain(name);
  });

  it('never expands an expression inside a script: values reach scripts through env', () => {
    for (const step of action.runs.steps) {
      if (step.run !== undefined) expect(step.run, step.name).not.toMatch(/\$\{\{/);
    }
  });

  it('reports with its own script, signed with the key the dispatch handed out', () => {
    const report = action.runs.steps.find((s) => s.name === 'Report to Patchbay');
    expect(report?.if).toContain('always()');
    expect(report?.run).toBe('node "$GITHUB_ACTION_PATH/report.mjs"');
    const script = readFileSync(join(ROOT, 'action', 'report.mjs'), 'utf8');
    for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      expect(script).toContain(`'${header}'`);
    }
    // A dispatch of a `deliver: actions` run fills these in without the workflow naming them.
    for (const key of ['run-id', 'branch', 'report-url', 'report-secret']) {
      expect(action.inputs[key]?.default, key).toMatch(/github\.event\.client_payload\./);
    }
    // The key never shows in the job's log.
    expect(action.runs.steps[0]?.run).toContain('::add-mask::');
  });
});
