/**
 * Compatibility layers: the earlier services' wire protocols, served by Patchbay so their
 * clients keep working unchanged (src/server/compat/). Off unless listed.
 */
import { z } from 'zod';
import { durationMs, list, setting } from './spec.js';

/** The layers that can be switched on. */
export const CompatLayer = z.enum(['cursor-runner', 'cc-executor']);
export type CompatLayer = z.infer<typeof CompatLayer>;

export const compatSettings = {
  compat: setting({
    key: 'compat',
    env: 'PATCHBAY_COMPAT',
    schema: list.pipe(z.array(CompatLayer)).default([]),
    defaultText: '(none)',
    description:
      'Comma-separated compatibility layers to serve: `cursor-runner` (its HTTP API) and `cc-executor` (its WebSocket JSON-RPC at /ws/mcp and /ws, /healthz and its REST layer). Each obeys the tokens, origin guard, allow-list, trusted roots, budgets and limits. See docs/compat.md.',
  }),
  ccExecutorHeartbeatMs: setting({
    key: 'ccExecutorHeartbeatMs',
    env: 'PATCHBAY_CC_EXECUTOR_HEARTBEAT_MS',
    schema: durationMs.default(30_000),
    defaultText: '30000',
    description:
      'cc-executor layer: how often a `ping` notification goes to each WebSocket session; a session that answers none for two intervals is closed.',
  }),
};
