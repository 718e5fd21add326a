import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPatchbayError } from '../../contracts/index.js';
import { loadConfig } from '../load.js';

const cwd = mkdtempSync(join(tmpdir(), 'pb-mcp-settings-'));
const load = (env: Record<string, string>, flags = {}) => loadConfig({ env, flags, cwd });

describe('MCP settings', () => {
  it('waits 25 s per call and offers every tool by default', () => {
    const config = load({});
    expect(config.mcpWaitLimitMs).toBe(25_000);
    expect(config.mcpReadOnly).toBe(false);
  });

  it('never lets one wait_for_run call hold past 25 s', () => {
    expect(load({ PATCHBAY_MCP_WAIT_LIMIT_MS: '2500' }).mcpWaitLimitMs).toBe(2500);
    try {
      load({ PATCHBAY_MCP_WAIT_LIMIT_MS: '60000' });
      expect.unreachable();
    } catch (err) {
      expect(isPatchbayError(err) && err.code).toBe('CONFIG_INVALID');
      expect(String((err as Error).message)).toContain('PATCHBAY_MCP_WAIT_LIMIT_MS');
    }
  });

  it('turns read-only on from the env or the --read-only flag', () => {
    expect(load({ PATCHBAY_MCP_READ_ONLY: '1' }).mcpReadOnly).toBe(true);
    expect(load({ PATCHBAY_MCP_READ_ONLY: 'off' }).mcpReadOnly).toBe(false);
    expect(load({}, { mcpReadOnly: true }).mcpReadOnly).toBe(true);
  });
});
