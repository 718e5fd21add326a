import { describe, expect, it } from 'vitest';
import { commandsOfScript } from './shell-script.js';

const reason = (script: string): string | undefined => {
  try {
    commandsOfScript(script);
    return undefined;
  } catch (err) {
    expect((err as { code: string }).code).toBe('COMMAND_SCRIPT_UNCHECKABLE');
    return (err as { details: { reason: string } }).details.reason;
  }
};

describe('commandsOfScript', () => {
  it('names every command of a list, a pipeline and and/or chains, after quote removal', () => {
    expect(commandsOfScript('echo a; ls -la | grep "x y" && true || false\nwc -l')).toEqual([
      'echo',
      'ls',
      'grep',
      'true',
      'false',
      'wc',
    ]);
    expect(commandsOfScript(`'e'ch\\o "$HOME" 'it''s' ;`)).toEqual(['echo']);
    expect(commandsOfScript('claude -p --verbose "a prompt: what is 2+2?"')).toEqual(['claude']);
  });

  it('skips redirection targets and descriptors, keeps arguments that look like assignments', () => {
    expect(commandsOfScript('echo hi >out.txt 2>&1 </dev/null; cat <in >>log')).toEqual([
      'echo',
      'cat',
    ]);
    expect(commandsOfScript('2>/dev/null make a=b')).toEqual(['make']);
    expect(commandsOfScript('/usr/bin/env')).toEqual(['/usr/bin/env']);
  });

  it('refuses what could run a command it cannot see', () => {
    for (const script of [
      'echo $(id)',
      'echo "$(id)"',
      'echo `id`',
      'echo ${X:-$(id)}',
      '(id)',
      'f() { id; }',
      '{ id; }',
      'if true; then id; fi',
      'for x in 1; do id; done',
      'PATH=/tmp ls',
      'LD_PRELOAD=x.so ls',
      '$CMD arg',
      '"$CMD" arg',
      '~/bin/tool',
      'l* -la',
      'id & ls',
      'cat <<EOF',
      'diff <(ls) <(ls)',
      '! id',
      'echo a;; echo b',
      'echo a &&',
      '| id',
      '# just a comment',
      "echo 'open",
      'echo "open',
      'echo \\',
      '> file',
      'echo >',
      '',
      'a\0b',
    ]) {
      expect(reason(script), JSON.stringify(script)).toBeTruthy();
    }
  });
});
