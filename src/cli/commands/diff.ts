import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PatchbayError, type ChangedFile } from '../../contracts/index.js';
import { runDiffPath } from '../../engine/index.js';
import type { Store } from '../../store/index.js';
import { createContext, type CliContext } from '../context.js';
import { remoteOrLocal } from '../local.js';
import { formatChangedFile, out } from '../output.js';
import { styleDiff, styleOf } from '../style.js';

/** The stored record of a repository run that has recorded its changes, or the API's error. */
async function changedRecord(store: Store, id: string) {
  const record = await store.runs.get(id);
  if (!record) throw new PatchbayError('RUN_NOT_FOUND', `no run ${id}`);
  if (!record.changedFiles) throw new PatchbayError('RUN_DIFF_NOT_AVAILABLE', undefined, { id });
  return { ...record, changedFiles: record.changedFiles };
}

/** Reads a run's diff from the data dir, where the engine writes it when the run ends. */
async function localDiff(ctx: CliContext, store: Store, id: string): Promise<string> {
  await changedRecord(store, id);
  return readFile(runDiffPath(ctx.config.dataDir, id), 'utf8');
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description("Print a repository run's diff against the commit it started from")
    .argument('<run>', 'run id')
    .addHelpText('after', '\nExample:\n  patchbay diff run_01… | git apply')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const ctx = createContext(command);
      const diff = await remoteOrLocal(
        ctx,
        () => ctx.client.getRunDiff(id),
        (store) => localDiff(ctx, store, id),
      );
      out.stdout(styleDiff(diff, styleOf('stdout')));
    });

  program
    .command('files')
    .description('List the files a repository run changed, with added and removed lines')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const ctx = createContext(command);
      const files: ChangedFile[] = await remoteOrLocal(
        ctx,
        async () => (await ctx.client.getChangedFiles(id)).files,
        async (store) => (await changedRecord(store, id)).changedFiles,
      );
      if (opts.json) {
        out.json({ files });
        return;
      }
      if (files.length === 0) out.note('no files changed');
      for (const f of files) out.line(formatChangedFile(f));
    });
}
