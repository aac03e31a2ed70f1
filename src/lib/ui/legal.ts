/** The merchant pages YooKassa and Russian law expect; texts live in content/legal/<slug>.md. */
export const LEGAL_SLUGS = ['offer', 'privacy', 'refund', 'contacts'] as const;
export type LegalSlug = (typeof LEGAL_SLUGS)[number];

export function isLegalSlug(value: unknown): value is LegalSlug {
  return typeof value === 'string' && (LEGAL_SLUGS as readonly string[]).includes(value);
}
