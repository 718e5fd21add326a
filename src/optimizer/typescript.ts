/**
 * The TypeScript compiler, loaded on first use: only `patchbay optimize` parses source, and a
 * server must not carry ~10 MB of compiler in its heap (bench/flood.ts holds it under 100 MB).
 * Never `import ts from 'typescript'` at the top of an optimizer module: use this.
 */
import type * as TypeScriptModule from 'typescript';

export type TypeScript = typeof TypeScriptModule;

let loaded: Promise<TypeScript> | undefined;

export function loadTypeScript(): Promise<TypeScript> {
  loaded ??= import('typescript').then(
    (m) => ((m as unknown as { default?: TypeScript }).default ?? m) as TypeScript,
  );
  return loaded;
}
