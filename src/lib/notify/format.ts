import type { Alert } from './types.ts';

/**
 * The alert text in the spec's format ("Системы Уведомлений"):
 *
 *   ⚠️ Beem Error
 *   Stage: GPT_ENHANCE_PROMPT
 *   User: 105580068296651888951
 *   Generation: gen_1737014400000_abc123
 *   Error: timeout
 *
 * Sent with parse_mode HTML (the header in bold); every value is escaped, so an error
 * holding `<`, `>` or `&` cannot break the message. Telegram counts the limit after
 * entity parsing, i.e. on the visible text, which `plain` is.
 */

export const TELEGRAM_TEXT_LIMIT = 4096;
/** A margin under Telegram's limit, which is counted in units not documented for sure. */
export const ALERT_TEXT_LIMIT = 4000;

export interface FormattedAlert {
  /** Visible text (what the operator reads; stored in operator_alerts). */
  plain: string;
  /** The same text as Telegram HTML. */
  html: string;
}

export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts to `max` UTF-16 units without splitting a surrogate pair, marking the cut with "…". */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

export function formatAlert(alert: Alert, limit = ALERT_TEXT_LIMIT): FormattedAlert {
  const header = '⚠️ Beem Error';
  const fields: Array<[string, string]> = [
    ['Stage', alert.stage],
    ['User', alert.userId ? String(alert.userId) : '-'],
    ['Generation', alert.generationId ? String(alert.generationId) : '-'],
  ];
  const head = [header, ...fields.map(([k, v]) => `${k}: ${v}`)].join('\n');
  const errorPrefix = '\nError: ';
  const error = truncateText(String(alert.error ?? '').trim() || 'unknown error', Math.max(1, limit - head.length - errorPrefix.length));
  const plain = `${head}${errorPrefix}${error}`;
  const html = [
    `<b>${escapeTelegramHtml(header)}</b>`,
    ...fields.map(([k, v]) => `${k}: ${escapeTelegramHtml(v)}`),
    `Error: ${escapeTelegramHtml(error)}`,
  ].join('\n');
  return { plain, html };
}
