import type { CommandKind, DetectResult } from '../../src/contracts/index.js';

/**
 * A detection result with just these commands (as if overridden), for tests and benchmarks of
 * the stages after detection; detection itself is tested on its own.
 */
export function detectedWith(commands: Partial<Record<CommandKind, string>>): DetectResult {
  const all: CommandKind[] = ['install', 'build', 'typecheck', 'lint', 'test', 'bench'];
  return {
    packageManager: { name: 'npm', version: null, confidence: 1, evidence: [] },
    framework: { name: 'library', confidence: 1, evidence: [] },
    workspaces: [],
    overridden: false,
    commands: Object.fromEntries(
      all.map((k) => [
        k,
        commands[k]
          ? { command: commands[k], confidence: 1, source: 'override' as const, evidence: [] }
          : null,
      ]),
    ) as DetectResult['commands'],
  };
}
