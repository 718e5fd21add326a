import type { Command } from 'commander';
import { createClient, type PatchbayClient } from '../client/index.js';
import {
  loadConfig,
  packageVersion,
  type ResolvedConfig,
  type SettingKey,
} from '../config/index.js';
import { createLogger, type Logger } from '../observability/index.js';

export interface CliContext {
  config: ResolvedConfig;
  version: string;
  /** Base URL of the server the CLI talks to. */
  serverUrl: string;
  /** True when PATCHBAY_URL (or --url) named a server explicitly. */
  explicitServer: boolean;
  client: PatchbayClient;
  logger(level?: string): Logger;
}

/** Resolves config once per command: global flags + command flags on top of env and file. */
export function createContext(
  command: Command,
  flags: Partial<Record<SettingKey, unknown>> = {},
): CliContext {
  // The connection options, wherever on the line they were given (see program.ts).
  const globals = command.optsWithGlobals<{
    config?: string;
    url?: string;
    dataDir?: string;
    token?: string;
  }>();
  const merged: Partial<Record<SettingKey, unknown>> = { ...flags };
  if (globals.url) merged.url = globals.url;
  if (globals.token) merged.token = globals.token;
  if (globals.dataDir && merged.dataDir === undefined) merged.dataDir = globals.dataDir;
  const config = loadConfig({ flags: merged, configFile: globals.config });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const serverUrl =
    config.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  return {
    config,
    version: packageVersion(),
    serverUrl,
    explicitServer: config.url !== undefined,
    // The client's own token; the server's first token still works on the server's machine.
    client: createClient({ baseUrl: serverUrl, token: config.token ?? config.apiTokens[0] }),
    logger: (level) => createLogger({ level: level ?? config.logLevel, format: config.logFormat }),
  };
}
