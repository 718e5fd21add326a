/**
 * What a setting is, and the schema pieces several areas share. The settings themselves are
 * in the files beside this one, one per area; ../schema.ts puts them together in the order
 * docs/config.md lists them.
 */
import { z } from 'zod';

/**
 * One entry per setting. The env name, the config-file key and the CLI flag all derive
 * from here, and so does docs/config.md (`npm run docs`; a test fails when it is stale).
 */
export interface SettingSpec<T extends z.ZodType = z.ZodType> {
  /** Key in ResolvedConfig and in patchbay.config.json. */
  readonly key: string;
  /** Environment variable (always PATCHBAY_*). */
  readonly env: string;
  readonly schema: T;
  /** Default as documented (a function when it depends on other settings). */
  readonly defaultText: string;
  readonly description: string;
  /** Secrets are redacted in logs and `patchbay doctor`. */
  readonly secret?: boolean;
  /** A structured secret setting: the values in it that are secrets (the rest are not). */
  readonly secretsOf?: (value: z.output<T>) => string[];
}

export const port = z.coerce.number().int().min(0).max(65_535);
export const durationMs = z.coerce.number().int().min(1);
export const positiveInt = z.coerce.number().int().min(1);
/** Comma-separated in env; an array in the config file. */
export const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);

/** A switch: in env, '', 0, false, no and off (any case) are off, anything else on. */
export const offByDefault = z.preprocess(
  (v) => (typeof v === 'string' ? !['', '0', 'false', 'no', 'off'].includes(v.toLowerCase()) : v),
  z.boolean().default(false),
);

export function setting<T extends z.ZodType>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}
