import { join } from 'node:path';
import { PatchbayError, type Evidence } from '../../contracts/index.js';
import { readLocatedJsonFile } from './json-lines.js';

/** The parts of a package.json detection reads, with the lines they sit on. */
export interface PackageJson {
  /** Repo-relative path of the file (`package.json` at the root). */
  readonly file: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** String-valued scripts only; anything else is not a command. */
  readonly scripts: Readonly<Record<string, string>>;
  /** Every dependency kind merged: name → range, and the section it came from. */
  readonly dependencies: ReadonlyMap<string, { range: string; section: string }>;
  evidence(...path: (string | number)[]): Evidence[];
}

const DEPENDENCY_SECTIONS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
] as const;

function stringRecord(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** Read `<root>/<file>`; undefined when it does not exist, OPTIMIZER_PACKAGE_JSON_INVALID when broken. */
export async function readPackageJson(
  root: string,
  file = 'package.json',
): Promise<PackageJson | undefined> {
  const located = await readLocatedJsonFile(
    join(root, file),
    (message) =>
      new PatchbayError('OPTIMIZER_PACKAGE_JSON_INVALID', `${file} is not valid JSON: ${message}`, {
        file,
      }),
  );
  if (!located) return undefined;
  const value = located.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PatchbayError('OPTIMIZER_PACKAGE_JSON_INVALID', `${file} is not a JSON object`, {
      file,
    });
  }
  const fields = value as Record<string, unknown>;
  const dependencies = new Map<string, { range: string; section: string }>();
  // Later sections do not overwrite: `dependencies` is the most telling place for a name.
  for (const section of DEPENDENCY_SECTIONS) {
    for (const [name, range] of Object.entries(stringRecord(fields[section]))) {
      if (!dependencies.has(name)) dependencies.set(name, { range, section });
    }
  }
  return {
    file,
    fields,
    scripts: stringRecord(fields.scripts),
    dependencies,
    evidence: (...path) => {
      const line = located.lineOf(...path);
      return line === undefined ? [] : [{ file, line, text: located.lineText(line) }];
    },
  };
}

/** Evidence for a dependency: the line in whichever section declares it. */
export function dependencyEvidence(pkg: PackageJson, name: string): Evidence[] {
  const dep = pkg.dependencies.get(name);
  return dep ? pkg.evidence(dep.section, name) : [];
}
