import { hasMessage, messageKeys, t, type Locale } from './index.ts';

/**
 * The messages a page's script needs, in the page's language: every `ui.*` key under the
 * given prefixes plus the listed error codes. Rendered into the page as JSON, so the browser
 * never carries the whole catalogue.
 */
export function clientMessages(locale: Locale, prefixes: string[], errorCodes: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of messageKeys()) {
    if (key.startsWith('ui.') && prefixes.some((prefix) => key.startsWith(prefix))) out[key] = t(locale, key);
  }
  for (const code of errorCodes) {
    const key = `errors.${code}`;
    if (hasMessage(key)) out[key] = t(locale, key);
  }
  return out;
}

/**
 * `clientMessages` serialised for the page's `ui-messages` block (`{ locale, messages }`).
 * The catalogue is constant, so each (locale, prefixes, codes) is serialised once per process
 * instead of on every request; a pure memo of constant data, safe in every bundle's copy.
 */
const serialisedMessages = new Map<string, string>();

export function clientMessagesJson(locale: Locale, prefixes: string[], errorCodes: string[] = []): string {
  const key = `${locale}\n${prefixes.join('\t')}\n${errorCodes.join('\t')}`;
  let json = serialisedMessages.get(key);
  if (json === undefined) {
    json = scriptJson({ locale, messages: clientMessages(locale, prefixes, errorCodes) });
    serialisedMessages.set(key, json);
  }
  return json;
}

/** JSON safe to put inside a `<script>` element (no `</script>` break-out). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
