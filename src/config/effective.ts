import type { EffectiveSetting } from '../contracts/index.js';
import { secretValues } from './load.js';
import { settings, type ResolvedConfig } from './schema.js';

/** What a secret is shown as. */
export const MASK = '********';

/**
 * The configuration in effect, setting by setting, for the dashboard's read-only view
 * (`GET /v1/settings`). A secret setting shows only whether it is set; any other value that
 * contains a secret (a password in a URL, a bot's token) has it replaced, so nothing a
 * secret setting holds leaves the process.
 */
export function effectiveSettings(config: ResolvedConfig): EffectiveSetting[] {
  const secrets = secretValues(config).sort((a, b) => b.length - a.length);
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let out = value;
      for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
      return out;
    }
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    }
    return value;
  };
  return Object.entries(settings).map(([key, spec]) => {
    const value = (config as unknown as Record<string, unknown>)[key];
    const unset =
      value === undefined ||
      value === null ||
      (Array.isArray(value) && value.length === 0) ||
      (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
    let shown: unknown;
    if (unset) shown = value ?? null;
    else if (spec.secret && !spec.secretsOf && !/url$/i.test(key)) shown = MASK;
    else shown = scrub(value);
    return {
      key,
      env: spec.env,
      value: shown,
      secret: spec.secret === true,
      defaultText: spec.defaultText,
      description: spec.description,
    };
  });
}
