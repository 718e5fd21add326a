import { REDACTED_ENV_VALUE, type ScheduleRunRequest } from '../contracts/index.js';

/**
 * A schedule's run keeps its environment variables (often tokens) in the store, where the
 * runs it starts need them; what the API answers shows their names only.
 */

/** The run as answers show it: every `env` value replaced by the marker. */
export function redactRun(run: ScheduleRunRequest): ScheduleRunRequest {
  if (!run.env) return run;
  const env: Record<string, string> = {};
  for (const name of Object.keys(run.env)) env[name] = REDACTED_ENV_VALUE;
  return { ...run, env };
}

/**
 * The run a PATCH stores: without `env` the stored variables stay (a client that read the
 * schedule never had the values to send back); a value equal to the marker keeps the stored
 * value of that name; anything else replaces it.
 */
export function withStoredEnv(
  requested: ScheduleRunRequest,
  stored: ScheduleRunRequest,
): ScheduleRunRequest {
  if (requested.env === undefined)
    return stored.env === undefined ? requested : { ...requested, env: stored.env };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(requested.env)) {
    const kept = value === REDACTED_ENV_VALUE ? stored.env?.[name] : undefined;
    env[name] = kept ?? value;
  }
  return { ...requested, env };
}
