import { hasMessage, t, type Locale } from './index.ts';
import { ui } from './messages/ui.ts';

/**
 * The messages a page's script needs, in the page's language: every `ui.*` key under the
 * given prefixes plus the listed error codes. Rendered into the page as JSON, so the browser
 * never carries the whole catalogue.
 */
export function clientMessages(locale: Locale, prefixes: string[], errorCodes: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(ui.ru)) {
    if (prefixes.some((prefix) => key.startsWith(prefix))) out[key] = t(locale, key);
  }
  for (const code of errorCodes) {
    const key = `errors.${code}`;
    if (hasMessage(key)) out[key] = t(locale, key);
  }
  return out;
}

/** JSON safe to put inside a `<script>` element (no `</script>` break-out). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
