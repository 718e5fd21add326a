/** Telegram's limit on the text of one message (after entity parsing; we send plain text). */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

/**
 * Splits `text` into messages of at most `limit` characters (UTF-16 units, as the Bot API
 * counts them), cutting at the last paragraph break, else line break, else space in the second
 * half of a chunk, and never inside a surrogate pair. Nothing is lost or added: the parts
 * joined give back the text (the break a cut is made at stays at the end of its part).
 */
export function splitMessage(text: string, limit = TELEGRAM_MESSAGE_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = -1;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at >= limit / 2) {
        cut = at + sep.length;
        break;
      }
    }
    if (cut < 0) {
      cut = limit;
      // A high surrogate last would separate a pair: cut before it.
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}
