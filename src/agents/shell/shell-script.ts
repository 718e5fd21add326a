import { PatchbayError } from '../../contracts/index.js';

/**
 * Reads a `sh -c` string far enough to name every command it runs, so an allow-list can be
 * applied to each. Deliberately conservative: it understands simple commands joined by `;`,
 * `&&`, `||`, `|` and newlines, quoting, backslash escapes, `$NAME` in arguments and file
 * redirections. Anything that could run a command it cannot see (command substitution,
 * subshells, groups, functions, compound commands, here-documents, background jobs, variable
 * assignments before a command, an expansion or a glob in a command's name) is refused: a
 * string that cannot be read is never run under an allow-list.
 */

const RESERVED = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
  'in',
  'function',
  'select',
  'time',
  'coproc',
  '!',
  '{',
  '}',
  '[[',
  ']]',
]);

function unreadable(script: string, why: string): PatchbayError {
  return new PatchbayError(
    'COMMAND_SCRIPT_UNCHECKABLE',
    `the shell string cannot be checked against PATCHBAY_ALLOWED_COMMANDS: ${why}`,
    { reason: why, script: script.slice(0, 200) },
  );
}

interface Word {
  text: string;
  /** An unquoted expansion, glob or tilde: its value is not known before it runs. */
  dynamic: boolean;
  /** Any part of it was quoted or escaped (so it is not an assignment or a reserved word). */
  quoted: boolean;
}

/**
 * The command names of a shell string, in order (after quote removal).
 * @throws PatchbayError COMMAND_SCRIPT_UNCHECKABLE when it uses anything not understood.
 */
export function commandsOfScript(script: string): string[] {
  if (script.includes('\0')) throw unreadable(script, 'it contains a NUL byte');
  const commands: string[] = [];
  let words: Word[] = [];
  let word: Word | null = null;
  /** The next word is a redirection's target, not a command name. */
  let redirectTarget = false;
  let hasCommandName = false;
  /** The last separator needs a command after it (`&&`, `||`, `|`). */
  let needCommand = false;

  const fail = (why: string): never => {
    throw unreadable(script, why);
  };
  const endWord = (): void => {
    if (!word) return;
    const w = word;
    word = null;
    if (redirectTarget) {
      redirectTarget = false;
      return;
    }
    if (!hasCommandName) {
      if (!w.quoted && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text)) {
        fail(`a variable assignment before a command (${w.text.split('=')[0]}=…)`);
      }
      if (!w.quoted && RESERVED.has(w.text)) fail(`the shell keyword \`${w.text}\``);
      if (w.dynamic) fail(`the command name \`${w.text}\` is expanded when it runs`);
      if (w.text === '') fail('an empty command name');
      commands.push(w.text);
      hasCommandName = true;
      needCommand = false;
    }
    words.push(w);
  };
  const endCommand = (separator: string, requiresNext: boolean): void => {
    endWord();
    if (redirectTarget) fail('a redirection without a target');
    if (!hasCommandName) {
      if (words.length > 0) fail('a redirection without a command');
      if (needCommand || requiresNext || (separator === ';' && commands.length === 0)) {
        fail(`an empty command before \`${separator === '\n' ? 'newline' : separator}\``);
      }
    }
    words = [];
    hasCommandName = false;
    needCommand = requiresNext;
  };
  const current = (): Word => (word ??= { text: '', dynamic: false, quoted: false });

  let i = 0;
  const n = script.length;
  /** `$` at i: a plain parameter ($NAME, $1, $?) is allowed; $( ${ and $(( are not. */
  const dollar = (w: Word): void => {
    const next = script[i + 1];
    if (next === '(' || next === '{') fail('`$(`/`${` expansions');
    if (next !== undefined && /[A-Za-z0-9_@*#?$!-]/.test(next)) w.dynamic = true;
    w.text += '$';
    i++;
  };

  while (i < n) {
    const c = script[i]!;
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\n') {
      endCommand('\n', false);
      i++;
    } else if (c === ';') {
      if (script[i + 1] === ';') fail('`;;`');
      endCommand(';', false);
      i++;
    } else if (c === '&') {
      if (script[i + 1] !== '&') fail('background jobs (`&`)');
      endCommand('&&', true);
      i += 2;
    } else if (c === '|') {
      if (script[i + 1] === '&') fail('`|&`');
      const two = script[i + 1] === '|';
      endCommand(two ? '||' : '|', true);
      i += two ? 2 : 1;
    } else if (c === '>' || c === '<') {
      // A word of digits right before is the descriptor (2>), not a command's name.
      const w = word as Word | null;
      if (w && !w.quoted && /^\d+$/.test(w.text)) word = null;
      else endWord();
      if (redirectTarget) fail('a redirection without a target');
      const next = script[i + 1];
      if (c === '<' && next === '<') fail('here-documents (`<<`)');
      if (next === '(') fail('process substitution');
      i += next === '>' || next === '&' || next === '|' || (c === '<' && next === '>') ? 2 : 1;
      redirectTarget = true;
    } else if (c === '(' || c === ')') {
      fail('subshells and functions (`(`)');
    } else if (c === '`') {
      fail('command substitution (backquotes)');
    } else if (c === '#' && !word) {
      fail('comments');
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) fail('an unterminated single quote');
      const w = current();
      w.text += script.slice(i + 1, end);
      w.quoted = true;
      i = end + 1;
    } else if (c === '"') {
      const w = current();
      w.quoted = true;
      i++;
      for (;;) {
        if (i >= n) fail('an unterminated double quote');
        const d = script[i]!;
        if (d === '"') break;
        if (d === '`') fail('command substitution (backquotes)');
        if (d === '$') {
          dollar(w);
          continue;
        }
        if (d === '\\' && i + 1 < n && '$`"\\\n'.includes(script[i + 1]!)) {
          if (script[i + 1] !== '\n') w.text += script[i + 1];
          i += 2;
          continue;
        }
        w.text += d;
        i++;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= n) fail('a trailing backslash');
      if (script[i + 1] !== '\n') {
        const w = current();
        w.text += script[i + 1];
        w.quoted = true;
      }
      i += 2;
    } else if (c === '$') {
      dollar(current());
    } else {
      const w = current();
      if (c === '*' || c === '?' || c === '[' || (c === '~' && w.text === '')) w.dynamic = true;
      w.text += c;
      i++;
    }
  }
  endWord();
  if (redirectTarget) fail('a redirection without a target');
  if (needCommand && !hasCommandName) fail('a command missing after the last operator');
  if (words.length > 0 && !hasCommandName) fail('a redirection without a command');
  if (commands.length === 0) fail('it runs no command');
  return commands;
}
