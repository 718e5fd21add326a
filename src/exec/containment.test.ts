import { describe, expect, it } from 'vitest';
import { decodeWrappedExit, pidNamespaceArgv } from './containment.js';

describe('decodeWrappedExit', () => {
  it('reads 128+N from a wrapper as signal N', () => {
    expect(decodeWrappedExit(143, null)).toEqual({ exitCode: null, signal: 'SIGTERM' });
    expect(decodeWrappedExit(130, null)).toEqual({ exitCode: null, signal: 'SIGINT' });
    expect(decodeWrappedExit(134, null)).toEqual({ exitCode: null, signal: 'SIGABRT' });
  });

  it('leaves ordinary exit codes, unknown signal numbers and real signals alone', () => {
    expect(decodeWrappedExit(0, null)).toEqual({ exitCode: 0, signal: null });
    expect(decodeWrappedExit(128, null)).toEqual({ exitCode: 128, signal: null });
    expect(decodeWrappedExit(255, null)).toEqual({ exitCode: 255, signal: null });
    // 128 + a signal that only stops or is ignored: nothing dies of it, so it is the code.
    expect(decodeWrappedExit(145, null)).toEqual({ exitCode: 145, signal: null }); // SIGCHLD
    expect(decodeWrappedExit(128 + 28, null)).toEqual({ exitCode: 156, signal: null }); // SIGWINCH
    expect(decodeWrappedExit(128 + 19, null)).toEqual({ exitCode: 147, signal: null }); // SIGSTOP
    expect(decodeWrappedExit(null, 'SIGKILL')).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });
});

describe('pidNamespaceArgv', () => {
  it('puts a shell between the namespace and the program, which gets its argv untouched', () => {
    const argv = pidNamespaceArgv({ prefix: ['/usr/bin/unshare', '--pid'], userNamespace: false }, [
      'echo',
      '$HOME',
      'a b',
    ]);
    expect(argv.slice(0, 3)).toEqual(['/usr/bin/unshare', '--pid', '--']);
    expect(argv.slice(-3)).toEqual(['echo', '$HOME', 'a b']);
  });
});
