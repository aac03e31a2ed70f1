/**
 * The browser's side of the interface text: a page embeds the messages its script needs
 * (see `clientMessages` in src/lib/i18n/client.ts) as JSON, and this reads them with the same
 * `{name}` placeholders and plural families (`key.one|few|many|other`) as the server.
 */

export type Params = Record<string, string | number>;

export interface Translator {
  locale: 'ru' | 'en';
  t(key: string, params?: Params): string;
  tn(key: string, count: number, params?: Params): string;
}

export function createTranslator(locale: 'ru' | 'en', messages: Record<string, string>): Translator {
  const t = (key: string, params: Params = {}) =>
    (messages[key] ?? key).replace(/\{(\w+)\}/g, (match, name: string) => (name in params ? String(params[name]) : match));
  const rules = new Intl.PluralRules(locale);
  const tn = (key: string, count: number, params: Params = {}) => {
    const exact = `${key}.${rules.select(count)}`;
    return t(exact in messages ? exact : `${key}.other`, { count, ...params });
  };
  return { locale, t, tn };
}

/** Reads the JSON block a page rendered with `<script type="application/json" id="ui-messages">`. */
export function pageTranslator(): Translator {
  const node = document.getElementById('ui-messages');
  const data = node ? (JSON.parse(node.textContent ?? '{}') as { locale?: string; messages?: Record<string, string> }) : {};
  return createTranslator(data.locale === 'en' ? 'en' : 'ru', data.messages ?? {});
}
