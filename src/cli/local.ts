import { existsSync } from 'node:fs';
import { isPatchbayError, PatchbayError } from '../contracts/index.js';
import { isPostgresUrl, keyringFor, openStore, secretBoxFor, type Store } from '../store/index.js';
import type { CliContext } from './context.js';
import { out } from './output.js';

/**
 * Runs `remote`; when no server answers and none was named explicitly, runs `local` on the
 * data dir's store instead, so `runs` and `logs` work after an embedded `patchbay run`.
 * A data dir without a store is an error, not a new store: reading must not create
 * ~/.patchbay (or whatever --data-dir names by mistake).
 */
export async function remoteOrLocal<T>(
  ctx: CliContext,
  remote: () => Promise<T>,
  local: (store: Store) => Promise<T>,
): Promise<T> {
  try {
    return await remote();
  } catch (err) {
    if (!isPatchbayError(err) || err.code !== 'SERVER_UNREACHABLE' || ctx.explicitServer) throw err;
  }
  const { databaseUrl, dataDir } = ctx.config;
  const sqliteFile = databaseUrl.replace(/^sqlite:(\/\/)?/, '');
  if (!isPostgresUrl(databaseUrl) && sqliteFile !== ':memory:' && !existsSync(sqliteFile)) {
    throw new PatchbayError(
      'CLI_NO_SERVER_OR_STORE',
      `no server answers at ${ctx.serverUrl} and ${dataDir} holds no store: start one with \`patchbay serve\`, or name yours with --url (PATCHBAY_URL) or --data-dir (PATCHBAY_DATA_DIR)`,
      { serverUrl: ctx.serverUrl, dataDir },
    );
  }
  out.note(`no server at ${ctx.serverUrl}; reading ${dataDir} directly`);
  const store = await openStore({
    databaseUrl,
    secrets: secretBoxFor(ctx.config),
    keyring: keyringFor(ctx.config),
  });
  try {
    return await local(store);
  } finally {
    await store.close();
  }
}
