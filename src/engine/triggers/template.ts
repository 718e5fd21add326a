import { PatchbayError, type TriggerRunRequest } from '../../contracts/index.js';

/**
 * The mapping language of trigger run templates: text with `{{path}}` placeholders, nothing
 * else (no expressions, no code). A path is a root (`payload`, `webhook` or `trigger`) and
 * dot-separated keys; a key that is a number indexes an array (`payload.commits.0.id`). A
 * string is inserted as is, a number or boolean as written, an object or array as JSON, and a
 * path that leads nowhere (or to null) as nothing. Only own properties are read.
 *
 * Placeholders are allowed in `prompt`, `model`, `ref` and `env` values. Never in `command` or
 * `args`: payload text there could become shell code; hand it to a command in an env value
 * (`sh -c 'echo "$TITLE"'` with `env: {"TITLE": "{{payload.title}}"}`), which stays data.
 */

type Part = string | { path: string[] };
const ROOTS = new Set(['payload', 'webhook', 'trigger']);
const KEY = /^[A-Za-z0-9_$@:-]+$/;
const MAX_PLACEHOLDERS = 64;

/** What placeholders read: the delivery's JSON body and facts about it. */
export interface TemplateContext {
  payload: unknown;
  webhook: { id: string; timestamp: number };
  trigger: { id: string; name: string | null };
}

function invalid(field: string, message: string): PatchbayError {
  return new PatchbayError('TRIGGER_TEMPLATE_INVALID', `${field}: ${message}`, {
    fields: [{ location: 'body', path: `run.${field}`, message }],
  });
}

/**
 * Splits `text` into literal parts and placeholder paths.
 * @throws PatchbayError TRIGGER_TEMPLATE_INVALID naming `field` and the position
 */
export function parseTemplate(text: string, field: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  let count = 0;
  for (;;) {
    const open = text.indexOf('{{', at);
    if (open < 0) break;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw invalid(field, `\`{{\` at ${open} is never closed with \`}}\``);
    const path = text
      .slice(open + 2, close)
      .trim()
      .split('.');
    if (!ROOTS.has(path[0]!) || !path.every((k) => KEY.test(k))) {
      throw invalid(
        field,
        `\`${text.slice(open, close + 2)}\` at ${open} is not a placeholder: write {{payload.key.key}}, {{webhook.id}} or {{trigger.id}}`,
      );
    }
    if (++count > MAX_PLACEHOLDERS)
      throw invalid(field, `more than ${MAX_PLACEHOLDERS} placeholders`);
    if (open > at) parts.push(text.slice(at, open));
    parts.push({ path });
    at = close + 2;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

function lookUp(context: TemplateContext, path: string[]): unknown {
  let value: unknown = context;
  for (const key of path) {
    if (Array.isArray(value)) {
      value = /^\d+$/.test(key) ? value[Number(key)] : undefined;
    } else if (value !== null && typeof value === 'object' && Object.hasOwn(value, key)) {
      value = (value as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function renderTemplate(parts: Part[], context: TemplateContext): string {
  return parts.map((p) => (typeof p === 'string' ? p : show(lookUp(context, p.path)))).join('');
}

const TEMPLATED = ['prompt', 'model', 'ref'] as const;

/** Every string of a value with where it is, for the check that placeholders stay in place. */
function strings(value: unknown, path: string): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}.${i}`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/**
 * Checks a run template: placeholders parse, and appear only where they are allowed.
 * @throws PatchbayError TRIGGER_TEMPLATE_INVALID
 */
export function assertRunTemplate(run: TriggerRunRequest): void {
  for (const [path, text] of strings(run, '')) {
    const allowed = (TEMPLATED as readonly string[]).includes(path) || path.startsWith('env.');
    if (allowed) parseTemplate(text, path);
    else if (text.includes('{{')) {
      throw invalid(
        path,
        'placeholders are allowed only in prompt, model, ref and env values (pass payload text to a command through env)',
      );
    }
  }
}

/** Whether the template's `ref` depends on the delivery (then it is checked only at fire). */
export function refIsTemplated(run: TriggerRunRequest): boolean {
  return run.ref?.includes('{{') ?? false;
}

/** The run request of one delivery: the template with every placeholder filled in. */
export function renderRunTemplate(
  run: TriggerRunRequest,
  context: TemplateContext,
): Record<string, unknown> {
  const fill = (text: string, field: string) => renderTemplate(parseTemplate(text, field), context);
  const out: Record<string, unknown> = { ...run };
  for (const field of TEMPLATED) {
    const value = run[field];
    if (typeof value === 'string') out[field] = fill(value, field);
  }
  if (run.env) {
    out.env = Object.fromEntries(
      Object.entries(run.env).map(([name, value]) => [name, fill(value, `env.${name}`)]),
    );
  }
  return out;
}
