import { isPatchbayError } from '../contracts/index.js';
import { openStore, secretBoxFor, type Store } from '../store/index.js';
import type { CliContext } from './context.js';
import { out } from './output.js';

/**
 * Runs `remote`; when no server answers and none was named explicitly, runs `local` on the
 * data dir's store instead, so `runs` and `logs` work after an embedded `patchbay run`.
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
  out.note(`no server at ${ctx.serverUrl}; reading ${ctx.config.dataDir} directly`);
  const store = await openStore({
    databaseUrl: ctx.config.databaseUrl,
    secrets: secretBoxFor(ctx.config),
  });
  try {
    return await local(store);
  } finally {
    await store.close();
  }
}
