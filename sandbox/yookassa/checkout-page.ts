import { escapeHtml } from '../core.ts';

/**
 * The emulator's stand-in for YooKassa's payment page (`confirmation_url`): what the buyer
 * pays for, a card field with the test cards, and two buttons that settle the payment.
 */

export interface CheckoutView {
  paymentId: string;
  shopId: string;
  amountValue: string;
  currency: string;
  description: string | null;
  status: string;
  returnUrl: string;
}

/** Reasons the "decline" select offers; `expired_on_confirmation` is what leaving the page leads to. */
export const CHECKOUT_DECLINE_REASONS = [
  'expired_on_confirmation',
  'insufficient_funds',
  'general_decline',
  '3d_secure_failed',
  'card_expired',
  'fraud_suspected',
] as const;

/** A card that the real test shop declines (reference §9); any other number pays. */
export const DECLINING_TEST_CARDS: Record<string, string> = {
  '5555555555554592': '3d_secure_failed',
};

function formatRubles(value: string): string {
  const [rubles = '0', kopecks = '00'] = value.split('.');
  return `${rubles.replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0')},${kopecks}`;
}

export function renderCheckoutPage(view: CheckoutView): string {
  const amount = `${formatRubles(view.amountValue)} ${view.currency === 'RUB' ? '₽' : escapeHtml(view.currency)}`;
  const open = view.status === 'pending';
  const body = open
    ? `<form method="post" action="/yookassa/checkout/${escapeHtml(view.paymentId)}">
        <label>Номер карты
          <input name="card" inputmode="numeric" autocomplete="cc-number" value="5555 5555 5555 4477">
        </label>
        <p class="hint">Тестовый магазин: подойдёт любая карта из списка тестовых, срок действия — любой в будущем,
          CVC — любой. Например, 5555 5555 5555 4477 (Mastercard) или 2200 0000 0000 0004 (Мир).
          Карта 5555 5555 5555 4592 будет отклонена (3-D Secure).</p>
        <button type="submit" name="action" value="pay" class="pay">Оплатить ${amount}</button>
        <button type="submit" name="action" value="cancel" class="cancel">Отменить</button>
        <details>
          <summary>Причина отмены (для проверки магазина)</summary>
          <label>cancellation_details.reason
            <select name="reason">
              ${CHECKOUT_DECLINE_REASONS.map((r) => `<option value="${r}">${r}</option>`).join('')}
            </select>
          </label>
        </details>
      </form>`
    : `<p>Платёж уже обработан: <strong>${escapeHtml(view.status)}</strong>.</p>
       <p><a href="${escapeHtml(view.returnUrl)}">Вернуться в магазин</a></p>`;

  return `<!doctype html>
<html lang="ru">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Оплата заказа — ЮKassa (песочница)</title>
  <style>
    body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1a1a1a; margin: 0; }
    main { max-width: 420px; margin: 48px auto; background: #fff; border-radius: 16px; padding: 28px; box-shadow: 0 4px 24px rgba(0,0,0,.08); }
    .badge { display: inline-block; background: #ffe066; border-radius: 6px; padding: 2px 8px; font-size: 12px; }
    .amount { font-size: 32px; font-weight: 700; margin: 12px 0 4px; }
    label { display: block; margin: 16px 0 6px; font-size: 14px; }
    input, select { width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; border: 1px solid #ccd; border-radius: 8px; }
    .hint { font-size: 12px; color: #667; }
    button { width: 100%; margin-top: 16px; padding: 14px; font-size: 16px; border: 0; border-radius: 10px; cursor: pointer; }
    .pay { background: #0070f0; color: #fff; }
    .cancel { background: #eceef2; color: #1a1a1a; }
    summary { margin-top: 16px; cursor: pointer; color: #667; }
  </style>
</head>
<body>
  <main>
    <span class="badge">Тестовый платёж · песочница ЮKassa</span>
    <p>Магазин № ${escapeHtml(view.shopId)}</p>
    <div class="amount" data-amount="${escapeHtml(view.amountValue)}">${amount}</div>
    <p>${escapeHtml(view.description ?? 'Оплата заказа')}</p>
    ${body}
  </main>
</body>
</html>`;
}
