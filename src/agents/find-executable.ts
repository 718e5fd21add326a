import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/** The executable `name` resolves to on `path` (or `name` itself when it is a path), if any. */
export async function findExecutable(
  name: string,
  path: string | undefined,
): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [name]
    : (path ?? '')
        .split(delimiter)
        .filter((dir) => dir && isAbsolute(dir))
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
