/**
 * Telegram's HTML parse mode as the Bot API checks it (reference/telegram-bot-api.md §3):
 * only the supported tags, balanced; `<` and `&` only as markup or entities. Returns the
 * visible text (what the 4096-character limit counts) or the API's error description.
 */

const SUPPORTED_TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji', 'tg-time',
]);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export type ParsedEntities = { ok: true; visible: string } | { ok: false; error: string };

export function parseTelegramHtml(text: string): ParsedEntities {
  const stack: string[] = [];
  let visible = '';
  let i = 0;
  const offset = (index: number) => Buffer.byteLength(text.slice(0, index));
  while (i < text.length) {
    const ch = text[i];
    if (ch === '<') {
      const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"]*"|='[^']*'|=[^\s>]+)?)*)\s*>/.exec(text.slice(i));
      if (!tag) return { ok: false, error: `Bad Request: can't parse entities: Unexpected character "<" at byte offset ${offset(i)}` };
      const [whole, closing, rawName] = tag;
      const name = (rawName ?? '').toLowerCase();
      if (!SUPPORTED_TAGS.has(name)) {
        return {
          ok: false,
          error: `Bad Request: can't parse entities: Unsupported ${closing ? 'end' : 'start'} tag "${name}" at byte offset ${offset(i)}`,
        };
      }
      if (closing) {
        if (stack.pop() !== name) {
          return { ok: false, error: `Bad Request: can't parse entities: Unmatched end tag at byte offset ${offset(i)}, expected "</${stack.at(-1) ?? ''}>", found "</${name}>"` };
        }
      } else {
        stack.push(name);
      }
      i += whole.length;
      continue;
    }
    if (ch === '&') {
      const entity = /^&(?:(lt|gt|amp|quot)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/.exec(text.slice(i));
      if (!entity) {
        return { ok: false, error: `Bad Request: can't parse entities: Character entity expected at byte offset ${offset(i)}` };
      }
      const [whole, named, dec, hex] = entity;
      visible += named ? NAMED_ENTITIES[named] : String.fromCodePoint(dec ? Number(dec) : parseInt(hex ?? '0', 16));
      i += whole.length;
      continue;
    }
    visible += ch;
    i += 1;
  }
  if (stack.length > 0) {
    return { ok: false, error: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "${stack.at(-1)}"` };
  }
  return { ok: true, visible };
}
