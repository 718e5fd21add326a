import type { Command } from 'commander';
import { PatchbayError } from '../../contracts/index.js';
import {
  migrateDown,
  migrateToLatest,
  migrationLockFile,
  migrationStatus,
  openDatabase,
} from '../../store/index.js';

function lockOptions(handle: { dialect: string; location: string }): { lockFile?: string } {
  const lockFile = migrationLockFile(handle);
  return lockFile ? { lockFile } : {};
}
import { createContext } from '../context.js';
import { out } from '../output.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply (up), revert the latest (down) or list (status) database migrations')
    .argument('[action]', 'up | down | status', 'up')
    .action(async (action: string, _opts: unknown, command: Command) => {
      if (!['up', 'down', 'status'].includes(action)) {
        throw new PatchbayError(
          'VALIDATION_FAILED',
          `unknown migrate action ${action} (use up, down or status)`,
        );
      }
      const ctx = createContext(command);
      const handle = await openDatabase(ctx.config.databaseUrl);
      try {
        if (action === 'status') {
          for (const m of await migrationStatus(handle.db as never)) {
            out.line(
              `${m.executedAt ? 'applied ' : 'pending '} ${m.name}${m.executedAt ? `  (${m.executedAt})` : ''}`,
            );
          }
          return;
        }
        const names =
          action === 'up'
            ? await migrateToLatest(handle.db as never, lockOptions(handle))
            : await migrateDown(handle.db as never);
        if (names.length === 0)
          out.line(action === 'up' ? 'already up to date' : 'nothing to revert');
        for (const name of names) out.line(`${action === 'up' ? 'applied' : 'reverted'} ${name}`);
        out.note(`store: ${handle.location}`);
      } finally {
        await handle.db.destroy();
      }
    });
}
