import { describe, expect, it } from 'vitest';
import { errorCodes } from '../contracts/index.js';
import { EXIT, exitCodeForError } from './output.js';

describe('exitCodeForError', () => {
  it('gives each kind of failure its documented code (docs/cli.md)', () => {
    expect(exitCodeForError('VALIDATION_FAILED')).toBe(EXIT.usage);
    expect(exitCodeForError('BUDGET_EXCEEDED')).toBe(EXIT.usage);
    expect(exitCodeForError('WORKDIR_NOT_TRUSTED')).toBe(EXIT.usage);
    expect(exitCodeForError('RUN_NOT_FOUND')).toBe(EXIT.notFound);
    expect(exitCodeForError('RUN_DIFF_NOT_AVAILABLE')).toBe(EXIT.notFound);
    expect(exitCodeForError('SERVER_UNREACHABLE')).toBe(EXIT.unavailable);
    expect(exitCodeForError('CLI_NO_SERVER_OR_STORE')).toBe(EXIT.unavailable);
    expect(exitCodeForError('UNAUTHORIZED')).toBe(EXIT.noPermission);
    expect(exitCodeForError('CONFIG_INVALID')).toBe(EXIT.config);
    expect(exitCodeForError('INTERNAL_ERROR')).toBe(EXIT.software);
  });

  it('maps every code in the catalog to one of the documented codes', () => {
    const documented = new Set<number>(Object.values(EXIT));
    for (const code of errorCodes) expect(documented.has(exitCodeForError(code)), code).toBe(true);
  });
});
