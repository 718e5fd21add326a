import { PatchbayError } from '../contracts/index.js';

/** The slice of node-pty the supervisor uses (node-pty is an optional dependency). */
export interface PtyProcess {
  readonly pid: number;
  onData(cb: (data: string) => void): void;
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

export interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string> },
  ): PtyProcess;
}

let loaded: Promise<PtyModule | null> | undefined;

/** Loads node-pty once; resolves to null when it is not installed or failed to build. */
export function loadPty(): Promise<PtyModule | null> {
  loaded ??= import('node-pty').then(
    (m) => (m.default ?? m) as unknown as PtyModule,
    () => null,
  );
  return loaded;
}

export async function requirePty(): Promise<PtyModule> {
  const pty = await loadPty();
  if (!pty) throw new PatchbayError('PTY_UNAVAILABLE');
  return pty;
}
