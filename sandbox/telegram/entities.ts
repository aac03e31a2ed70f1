/**
 * Telegram's HTML parse mode as the Bot API checks it (reference/telegram-bot-api.md §3):
 * only the supported tags, balanced; `<` and `&` only as markup or entities. Returns the
 * visible text (what the 4096-character limit counts) and the message entities the markup
 * made (offsets and lengths in UTF-16 code units, as the Bot API counts them), or the API's
 * error description.
 */

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

const ENTITY_TYPES: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  a: 'text_link',
  'tg-emoji': 'custom_emoji',
};

const SUPPORTED_TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji', 'tg-time',
]);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export type ParsedEntities = { ok: true; visible: string; entities: MessageEntity[] } | { ok: false; error: string };

function attribute(attrs: string, name: string): string | null {
  const match = new RegExp(`\\b${name}=(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return match ? (match[1] ?? match[2] ?? match[3] ?? '') : null;
}

/** What an opening tag becomes once it closes; null for markup without an entity (a plain `<span>`). */
function entityFor(name: string, attrs: string): Omit<MessageEntity, 'offset' | 'length'> | null {
  if (name === 'span') return /class=["']?tg-spoiler/i.test(attrs) ? { type: 'spoiler' } : null;
  if (name === 'a') {
    const href = attribute(attrs, 'href') ?? '';
    return href ? { type: 'text_link', url: href } : null;
  }
  if (name === 'blockquote') return { type: /\bexpandable\b/i.test(attrs) ? 'expandable_blockquote' : 'blockquote' };
  if (name === 'tg-emoji') return { type: 'custom_emoji', custom_emoji_id: attribute(attrs, 'emoji-id') ?? '' };
  const type = ENTITY_TYPES[name];
  return type ? { type } : null;
}

export function parseTelegramHtml(text: string): ParsedEntities {
  const stack: Array<{ name: string; attrs: string; start: number; entity: Omit<MessageEntity, 'offset' | 'length'> | null }> = [];
  const entities: MessageEntity[] = [];
  let visible = '';
  let i = 0;
  const offset = (index: number) => Buffer.byteLength(text.slice(0, index));
  while (i < text.length) {
    const ch = text[i];
    if (ch === '<') {
      const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"]*"|='[^']*'|=[^\s>]+)?)*)\s*>/.exec(text.slice(i));
      if (!tag) return { ok: false, error: `Bad Request: can't parse entities: Unexpected character "<" at byte offset ${offset(i)}` };
      const [whole, closing, rawName, attrs = ''] = tag;
      const name = (rawName ?? '').toLowerCase();
      if (!SUPPORTED_TAGS.has(name)) {
        return {
          ok: false,
          error: `Bad Request: can't parse entities: Unsupported ${closing ? 'end' : 'start'} tag "${name}" at byte offset ${offset(i)}`,
        };
      }
      if (closing) {
        const open = stack.pop();
        if (open?.name !== name) {
          return { ok: false, error: `Bad Request: can't parse entities: Unmatched end tag at byte offset ${offset(i)}, expected "</${open?.name ?? ''}>", found "</${name}>"` };
        }
        const length = visible.length - open.start;
        // `<pre><code class="language-x">` is one pre entity with a language, no code entity.
        const pre = name === 'code' && stack.at(-1)?.name === 'pre' ? stack.at(-1)! : null;
        const language = pre ? /language-([\w+#-]+)/.exec(attribute(open.attrs, 'class') ?? '')?.[1] : undefined;
        if (pre && language) pre.entity = { type: 'pre', language };
        if (open.entity && length > 0 && !pre) entities.push({ ...open.entity, offset: open.start, length });
      } else {
        stack.push({ name, attrs, start: visible.length, entity: entityFor(name, attrs) });
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
    return { ok: false, error: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "${stack.at(-1)?.name}"` };
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { ok: true, visible, entities };
}

/**
 * Entities Telegram finds by itself in any text, markup or not: links written out
 * (`url`) and e-mail addresses. Those inside a markup entity of their own stay as they are.
 */
export function detectTextEntities(visible: string, markup: MessageEntity[] = []): MessageEntity[] {
  const found: MessageEntity[] = [];
  const pattern = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'»]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
  for (const match of visible.matchAll(pattern)) {
    const offset = match.index;
    const length = match[0].length;
    const covered = markup.some((e) => (e.type === 'text_link' || e.type === 'code' || e.type === 'pre') && offset < e.offset + e.length && e.offset < offset + length);
    if (!covered) found.push({ type: match[0].includes('://') ? 'url' : 'email', offset, length });
  }
  return [...markup, ...found].sort((a, b) => a.offset - b.offset || b.length - a.length);
}
