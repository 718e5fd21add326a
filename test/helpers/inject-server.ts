import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createSilentLogger } from '../../src/observability/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

/**
 * Servers for `app.inject` tests: each boots on a fresh data dir (real SQLite, no listener),
 * with `PATH=/usr/bin:/bin` plus `env`; `closeAll` (an `afterEach`) closes them and removes
 * their dirs.
 */
export function injectServers(prefix: string) {
  const servers: RunningServer[] = [];
  const dirs: string[] = [];
  return {
    async boot(env: Record<string, string> = {}): Promise<RunningServer & { dataDir: string }> {
      const dataDir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
      dirs.push(dataDir);
      const config = loadConfig({
        env: { PATCHBAY_DATA_DIR: dataDir, PATH: '/usr/bin:/bin', ...env },
        cwd: dataDir,
      });
      const server = await startServer({
        config,
        log: createSilentLogger(),
        version: '9.9.9',
        listen: false,
      });
      servers.push(server);
      return Object.assign(server, { dataDir });
    },
    async closeAll(): Promise<void> {
      await Promise.all(servers.splice(0).map((s) => s.close()));
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}
