import { mkdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PatchbayError } from '../contracts/index.js';

/** True when `child` is `parent` or lies below it (both already resolved). */
export function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function resolveRoots(roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    // A root that does not exist yet (the default one on a fresh machine) is created.
    await mkdir(root, { recursive: true });
    out.push(await realpath(root));
  }
  return out;
}

/** The setting that lists the trusted roots, named in every refusal so a user can fix it. */
const WORKSPACE_ROOTS_SETTING = 'PATCHBAY_WORKSPACE_ROOTS';

/**
 * WORKDIR_NOT_TRUSTED that says what is trusted and how to trust more: the roots as configured
 * (the operator's own setting, not a discovery about the machine) and the setting's name.
 */
function notTrusted(
  workdir: string,
  roots: string[],
  why = 'is outside every trusted root',
): PatchbayError {
  const list = roots.map((r) => resolve(r));
  return new PatchbayError(
    'WORKDIR_NOT_TRUSTED',
    `${workdir} ${why}; trusted roots: ${list.join(', ') || '(none)'}. ` +
      `To trust another directory, add it to ${WORKSPACE_ROOTS_SETTING} (comma-separated) and restart the server.`,
    { workdir, roots: list, setting: WORKSPACE_ROOTS_SETTING },
  );
}

/**
 * Resolves a requested working directory and checks it against the trusted roots.
 * The check runs on the real path, after every symlink is resolved, so a link inside a
 * root that points outside it is refused. A relative path is taken from the first root.
 *
 * @throws PatchbayError WORKDIR_NOT_TRUSTED, WORKDIR_NOT_FOUND
 */
export async function resolveTrustedWorkdir(workdir: string, roots: string[]): Promise<string> {
  if (workdir.includes('\0')) {
    throw notTrusted(JSON.stringify(workdir), roots, 'contains a NUL byte');
  }
  if (workdir.split(/[\\/]+/).includes('..')) {
    throw notTrusted(workdir, roots, 'must not contain `..` segments');
  }
  const realRoots = await resolveRoots(roots);
  const requested = isAbsolute(workdir) ? workdir : resolve(realRoots[0] ?? '/', workdir);
  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    // Say "not trusted" rather than "not found" for paths outside the roots: do not leak
    // which directories exist elsewhere on the machine.
    // Compare with the roots both as configured and as resolved: a root reached through a
    // symlink (/tmp on macOS) must still say "not found" for a typo inside it.
    const lexicallyInside = [...realRoots, ...roots.map((r) => resolve(r))].some((r) =>
      isWithin(r, resolve(requested)),
    );
    if (!lexicallyInside) throw notTrusted(workdir, roots);
    throw new PatchbayError('WORKDIR_NOT_FOUND', `workdir ${workdir} does not exist`, { workdir });
  }
  if (!realRoots.some((r) => isWithin(r, real))) {
    throw notTrusted(workdir, roots);
  }
  const info = await stat(real);
  if (!info.isDirectory()) {
    throw new PatchbayError('WORKDIR_NOT_FOUND', `workdir ${workdir} is not a directory`, {
      workdir,
    });
  }
  return real;
}

/** Creates the fresh directory a run without `workdir` runs in. */
export async function createRunDirectory(root: string, runId: string): Promise<string> {
  if (runId.includes(sep) || runId.includes('..')) throw new Error(`bad run id ${runId}`);
  const dir = join(root, runId);
  await mkdir(dir, { recursive: true });
  return realpath(dir);
}
