import { api, announceBalance, ApiError } from './api.ts';
import { nextPollDelay, startPoller } from './poll-schedule.ts';
import { pageTranslator } from './translator.ts';
import { formatDateTime, formatRubles } from '../lib/ui/format.ts';

/**
 * The billing page: buy a tariff (off to YooKassa's confirmation page), and on the way back
 * (`?payment=<id>`) ask our server to check the payment until YooKassa has decided.
 * Payment and credit histories are drawn here from their APIs, so they refresh in place
 * once a payment lands.
 */

/** What the payment check answers (a payment view plus the balance after it). */
interface CheckAnswer {
  /** What the payment means for the buyer, decided by the server. */
  state: 'pending' | 'expired' | 'credited' | 'canceled' | 'failed' | 'review';
  credits: number;
  balance?: number;
  /** The server's sentence for this payment (the bank's reason for a cancellation, …). */
  message?: string;
}

interface PaymentRow {
  paymentId: string;
  plan: string;
  credits: number;
  /** "1490.00", as YooKassa writes it. */
  amount: string;
  amountKopecks?: number;
  state: CheckAnswer['state'];
  statusLabel?: string;
  createdAt: number;
}

interface LedgerRow {
  id: number;
  kind: string;
  delta: number;
  balanceAfter: number;
  createdAt: number;
}

/** Stop the quick checks after this long: the bank may take minutes (SBP, a late notification). */
const PENDING_PATIENCE_MS = 3 * 60_000;
/**
 * Then check now and then until YooKassa decides (at the latest its one-hour confirmation
 * window ends in a cancellation), so a page left open ends on the right answer by itself.
 */
const SLOW_CHECK_MS = 30_000;


export function startBillingPage(): void {
  const { t, tn, locale } = pageTranslator();
  const request = <T>(path: string, json?: unknown) =>
    api<T>(path, { json, fallbackMessage: t('errors.INTERNAL'), networkMessage: t('ui.billing.networkError') });

  // ---- Buying --------------------------------------------------------------------------

  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-buy]')) {
    const card = button.closest('li')!;
    const error = card.querySelector<HTMLElement>('[data-buy-error]')!;
    button.addEventListener('click', async () => {
      error.hidden = true;
      setBuying(true, button);
      try {
        const answer = await request<{ confirmationUrl: string }>('/api/payments/yookassa/create', { plan: button.dataset.buy });
        location.assign(answer.confirmationUrl);
      } catch (err) {
        error.hidden = false;
        error.textContent = (err as Error).message;
        setBuying(false, button);
      }
    });
  }

  function setBuying(busy: boolean, active: HTMLButtonElement): void {
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-buy]')) button.disabled = busy;
    active.querySelector<HTMLElement>('[data-spinner]')!.hidden = !busy;
  }

  // ---- Coming back from YooKassa -------------------------------------------------------

  const result = document.getElementById('payment-result')!;
  function showResult(kind: 'info' | 'success' | 'warning' | 'error', text: string, retry = false): void {
    result.hidden = false;
    result.className = `notice-${kind} text-base`;
    result.dataset.kind = kind;
    result.replaceChildren(text);
    if (retry) {
      const again = document.createElement('a');
      again.href = '#tariffs-title';
      again.className = 'link ml-1';
      again.textContent = t('ui.billing.tryAgain');
      result.append(again);
    }
  }

  const paymentId = new URLSearchParams(location.search).get('payment');
  if (paymentId) {
    const started = Date.now();
    showResult('info', t('ui.billing.checking'));
    const poller = startPoller<CheckAnswer>({
      fetch: () => request<CheckAnswer>(`/api/payments/yookassa/check?paymentId=${encodeURIComponent(paymentId)}`),
      isTransient: (error) => error instanceof ApiError && (error.isNetwork || error.status >= 500),
      phaseOf: (answer) => answer.state,
      nextDelay: (state) => (state.failures === 0 && Date.now() - started > PENDING_PATIENCE_MS ? SLOW_CHECK_MS : nextPollDelay(state)),
      onAnswer: (answer) => {
        switch (answer.state) {
          case 'credited':
            if (typeof answer.balance === 'number') announceBalance(answer.balance);
            showResult(
              'success',
              t('ui.billing.succeeded', {
                credits: tn('ui.credits', answer.credits),
                balance: tn('ui.credits', answer.balance ?? 0),
              }),
            );
            void loadLists();
            return true;
          case 'canceled':
          case 'expired':
          case 'failed':
            showResult('warning', answer.message || t('ui.billing.canceled'), true);
            void loadLists();
            return true;
          case 'review':
            showResult('info', answer.message || t('ui.billing.stillPending'));
            return true;
          default:
            if (Date.now() - started > PENDING_PATIENCE_MS) {
              showResult('info', t('ui.billing.stillPending'));
              return false;
            }
            showResult('info', t('ui.billing.pending'));
            return false;
        }
      },
      onNetworkError: () => showResult('warning', t('ui.billing.checkOffline')),
      onError: (error) => showResult('error', (error as Error).message),
    });
    window.addEventListener('pagehide', () => poller.stop());
  }

  // ---- Histories -----------------------------------------------------------------------

  function listState(name: string, text: string | null): void {
    const node = document.querySelector<HTMLElement>(`[data-list-state="${name}"]`)!;
    node.hidden = text === null;
    node.textContent = text ?? '';
  }

  function row(main: string, sub: string, side: string, sideClass: string): HTMLLIElement {
    const item = document.createElement('li');
    item.className = 'flex items-start justify-between gap-4 py-3';
    const left = document.createElement('div');
    const title = document.createElement('p');
    title.className = 'font-medium text-slate-900';
    title.textContent = main;
    const when = document.createElement('p');
    when.className = 'text-sm text-slate-700';
    when.textContent = sub;
    left.append(title, when);
    const right = document.createElement('p');
    right.className = `shrink-0 text-right font-semibold tabular-nums ${sideClass}`;
    right.textContent = side;
    item.append(left, right);
    return item;
  }

  async function loadPayments(): Promise<void> {
    try {
      const { payments } = await request<{ payments: PaymentRow[] }>('/api/payments');
      listState('payments', payments.length === 0 ? t('ui.billing.paymentsEmpty') : null);
      document.getElementById('payments-list')!.replaceChildren(
        ...payments.map((payment) =>
          row(
            `${t(`ui.tariff.${payment.plan}`)} · ${formatRubles(payment.amountKopecks ?? Math.round(Number(payment.amount) * 100), locale)}`,
            [formatDateTime(payment.createdAt, locale), payment.statusLabel].filter(Boolean).join(' · '),
            payment.state === 'credited' ? `+${payment.credits}` : '',
            'text-emerald-800',
          ),
        ),
      );
    } catch (error) {
      listState('payments', (error as Error).message);
    }
  }

  async function loadLedger(): Promise<void> {
    try {
      const body = await request<{ entries: LedgerRow[] }>('/api/ledger');
      listState('ledger', body.entries.length === 0 ? t('ui.ledger.empty') : null);
      document.getElementById('ledger-list')!.replaceChildren(
        ...body.entries.map((entry) =>
          row(
            t(`ui.ledger.kind.${entry.kind}`),
            `${formatDateTime(entry.createdAt, locale)} · ${t('ui.ledger.after', { balance: tn('ui.credits', entry.balanceAfter) })}`,
            entry.delta > 0 ? `+${entry.delta}` : `−${Math.abs(entry.delta)}`,
            entry.delta > 0 ? 'text-emerald-800' : 'text-slate-900',
          ),
        ),
      );
    } catch (error) {
      listState('ledger', (error as Error).message);
    }
  }

  function loadLists(): Promise<unknown> {
    return Promise.all([loadPayments(), loadLedger()]);
  }

  void loadLists();
}
