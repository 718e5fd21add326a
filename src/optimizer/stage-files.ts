/** The JSON files the optimizer's stages hand each other in an optimization's directory. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PatchbayError } from '../contracts/index.js';

/** @throws PatchbayError OPTIMIZE_STAGE_OUT_OF_ORDER when the file is missing or unreadable. */
export async function readJson<T>(dir: string, name: string): Promise<T> {
  const file = join(dir, name);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new PatchbayError(
      'OPTIMIZE_STAGE_OUT_OF_ORDER',
      `${name} is missing or unreadable in ${dir}: the stage that writes it has not run (${(err as Error).message})`,
      { file },
    );
  }
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
