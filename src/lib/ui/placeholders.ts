/**
 * Legal texts ship with `{COMPANY_NAME}`-style placeholders for the operator to fill in.
 * Any left unfilled are shown marked, so a half-finished page is obvious at a glance.
 */
export const PLACEHOLDER = /\{([A-Z][A-Z0-9_]*)\}/g;

export function markPlaceholders(html: string): string {
  return html.replace(PLACEHOLDER, '<mark class="rounded bg-amber-100 px-1 text-amber-900" data-placeholder>{$1}</mark>');
}

export function findPlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}
