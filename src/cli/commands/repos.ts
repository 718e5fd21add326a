import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { isPatchbayError } from '../../contracts/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

/**
 * After WORKDIR_NOT_TRUSTED for a local path: the exact setting line that trusts the path's
 * parent as well as today's roots. Printed only; no config file is changed for the user.
 */
function suggestTrust(err: unknown, path: string): void {
  if (!isPatchbayError(err) || err.code !== 'WORKDIR_NOT_TRUSTED') return;
  const details = err.details as { roots?: unknown; setting?: unknown } | undefined;
  const roots = Array.isArray(details?.roots) ? details.roots.map(String) : [];
  const setting =
    typeof details?.setting === 'string' ? details.setting : 'PATCHBAY_WORKSPACE_ROOTS';
  const parent = dirname(path);
  out.note(`to trust ${parent}, start the server with:`);
  out.note(`  ${setting}=${[...roots, parent].join(',')}`);
  out.note(`or add "${parent}" to "workspaceRoots" in patchbay.config.json`);
}

export function registerRepos(program: Command): void {
  const repos = program.command('repos').description('Register, list and forget repositories');
  repos
    .command('add')
    .description('Register a local git repository (inside a trusted root) or clone an https URL')
    .argument('<path-or-url>', 'a directory or an https:// URL')
    .option('--name <name>', 'a short name')
    .option('--default-branch <branch>', "branch runs start from (default: the repository's HEAD)")
    .option('--json', 'print JSON')
    .action(
      async (
        target: string,
        opts: { name?: string; defaultBranch?: string; json?: boolean },
        command: Command,
      ) => {
        const ctx = createContext(command);
        const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
        const path = isAbsolute(target) ? target : resolve(target);
        const repo = await ctx.client
          .createRepo({
            ...(isUrl ? { url: target } : { path }),
            ...(opts.name ? { name: opts.name } : {}),
            ...(opts.defaultBranch ? { defaultBranch: opts.defaultBranch } : {}),
          })
          .catch((err: unknown) => {
            if (!isUrl) suggestTrust(err, path);
            throw err;
          });
        if (opts.json) out.json(repo);
        else out.line(`${repo.id}  ${repo.name}  ${repo.path}  (${repo.defaultBranch})`);
      },
    );
  repos
    .command('list')
    .description('List registered repositories')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { repos: list } = await createContext(command).client.listRepos();
      if (opts.json) out.json(list);
      else if (list.length === 0) out.note('no repositories yet (patchbay repos add <path|url>)');
      else
        for (const r of list)
          out.line(`${r.id}  ${r.name}  ${r.url ?? r.path}  (${r.defaultBranch})`);
    });
  repos
    .command('rm')
    .description('Forget a repository (a clone Patchbay made is deleted)')
    .argument('<id>', 'repository id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const repo = await createContext(command).client.deleteRepo(id);
      out.line(`removed ${repo.id} (${repo.name})`);
    });
}
