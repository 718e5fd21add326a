import type { Command } from 'commander';
import { PatchbayError } from '../../contracts/index.js';
import { keyringFor, openStore } from '../../store/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

/**
 * `patchbay keys rotate`: re-seals every inbox connector's credentials under the first key of
 * PATCHBAY_INBOX_KEYS. Rows sealed with an older key open until then (keep it in the list,
 * after the new one, until this has run); a row that no key opens is reported, not changed.
 */
export function registerKeys(program: Command): void {
  program
    .command('keys')
    .description('Manage the keys that seal inbox connector credentials')
    .argument('<action>', 'rotate: re-seal every row under the first key of PATCHBAY_INBOX_KEYS')
    .action(async (action: string, _opts: unknown, command: Command) => {
      if (action !== 'rotate') {
        throw new PatchbayError('VALIDATION_FAILED', `unknown keys action ${action} (use rotate)`);
      }
      const ctx = createContext(command);
      const keyring = keyringFor(ctx.config);
      if (!keyring) throw new PatchbayError('INBOX_KEYRING_MISSING');
      const store = await openStore({ databaseUrl: ctx.config.databaseUrl, keyring });
      try {
        const { rotated, total, unreadable } = await store.connectors.rotate();
        out.line(
          `re-sealed ${rotated} of ${total} connector credentials under key ${keyring.activeKeyId}`,
        );
        if (unreadable.length > 0) {
          throw new PatchbayError(
            'INBOX_CREDENTIALS_UNREADABLE',
            `no key in PATCHBAY_INBOX_KEYS opens the credentials of ${unreadable.join(', ')}: reconnect ${unreadable.length === 1 ? 'it' : 'them'}`,
            { connectors: unreadable },
          );
        }
      } finally {
        await store.close();
      }
    });
}
