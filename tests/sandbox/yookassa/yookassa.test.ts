import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../../../sandbox/defaults.ts';
import type { NotificationRecord, PaymentObject, YookassaEmulator } from '../../../sandbox/yookassa/index.ts';

/** A stand-in for the app's webhook: records notifications and answers a chosen status. */
interface Receiver {
  url: string;
  received: Array<{ event: string; object: PaymentObject }>;
  answer: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { received: [], answer: 200 } as unknown as Receiver;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.url === '/api/payments/yookassa/webhook') receiver.received.push(JSON.parse(raw));
      res.writeHead(receiver.answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}

const auth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.yookassaShopId}:${SANDBOX_CREDENTIALS.yookassaSecretKey}`).toString('base64')}`;

let sandbox: Sandbox;
let receiver: Receiver;
let api: string;

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${api}${path}`, {
    method,
    headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const paymentBody = (overrides: Record<string, unknown> = {}) => ({
  amount: { value: '1490.00', currency: 'RUB' },
  capture: true,
  confirmation: { type: 'redirect', return_url: 'http://shop.test/billing?payment=p1' },
  description: 'Пакет Basic: 50 кредитов',
  metadata: { userId: 'u1', paymentId: 'p1', plan: 'basic' },
  ...overrides,
});

async function create(key: string, body: unknown = paymentBody()): Promise<PaymentObject> {
  const res = await call('POST', '/payments', body, { 'idempotence-key': key });
  expect(res.status).toBe(200);
  return (await res.json()) as PaymentObject;
}

async function control(body: unknown): Promise<Response> {
  return fetch(`${sandbox.url}/_sandbox/yookassa/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const emulator = () => sandbox.emulator<YookassaEmulator>('yookassa');

/** Presses a button of the checkout page, as the buyer's browser does. */
const submit = (payment: PaymentObject, action: 'pay' | 'cancel') =>
  fetch(payment.confirmation!.confirmation_url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }),
    redirect: 'manual',
  });
const notifications = (): NotificationRecord[] => emulator().state().notifications;

beforeAll(async () => {
  receiver = await startReceiver();
  sandbox = await startSandbox();
  sandbox.setAppUrl(receiver.url);
  api = `${sandbox.url}/yookassa/v3`;
});
afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});
beforeEach(() => {
  emulator().reset();
  receiver.received = [];
  receiver.answer = 200;
});

describe('YooKassa emulator: API', () => {
  it('creates a pending payment shaped like the real object', async () => {
    const payment = await create('key-shape');
    expect(payment.id).toMatch(/^[0-9a-f]{8}-000f-5000-[89ab]000-[0-9a-f]{12}$/);
    expect(payment).toMatchObject({
      status: 'pending',
      paid: false,
      amount: { value: '1490.00', currency: 'RUB' },
      income_amount: { value: '1437.85', currency: 'RUB' },
      recipient: { account_id: '100500', gateway_id: '100700' },
      test: true,
      refundable: false,
      metadata: { userId: 'u1', paymentId: 'p1', plan: 'basic' },
      confirmation: { type: 'redirect', confirmation_url: `${sandbox.url}/yookassa/checkout/${payment.id}` },
    });
    expect(payment.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const read = await call('GET', `/payments/${payment.id}`);
    expect(await read.json()).toEqual(payment);
  });

  it('refuses wrong credentials with invalid_credentials', async () => {
    const res = await fetch(`${api}/payments/x`, { headers: { authorization: `Basic ${Buffer.from('100500:wrong').toString('base64')}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', code: 'invalid_credentials' });
    expect((await fetch(`${api}/payments/x`)).status).toBe(401);
  });

  it('answers 415 to a POST body that is not JSON', async () => {
    const res = await fetch(`${api}/payments`, {
      method: 'POST',
      headers: { authorization: auth, 'idempotence-key': 'form-body', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=1490.00',
    });
    expect(res.status).toBe(415);
  });

  it('answers not_found for an unknown payment', async () => {
    const res = await call('GET', '/payments/2f3b588d-000f-5000-8000-1d6e87c7fbde');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it('applies the Idempotence-Key rules', async () => {
    const missing = await call('POST', '/payments', paymentBody());
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'invalid_request', parameter: 'Idempotence-Key' });
    const tooLong = await call('POST', '/payments', paymentBody(), { 'idempotence-key': 'k'.repeat(65) });
    expect(tooLong.status).toBe(400);

    const first = await create('same-key');
    // Same body written in another key order is the same request: replayed, no new payment.
    const { amount, ...rest } = paymentBody();
    const again = await create('same-key', { ...rest, amount });
    expect(again.id).toBe(first.id);
    const changed = await call('POST', '/payments', paymentBody({ description: 'другое' }), { 'idempotence-key': 'same-key' });
    expect(changed.status).toBe(400);
    expect(await changed.json()).toMatchObject({ code: 'invalid_request', description: 'Idempotence key duplicated' });
    expect(emulator().state().payments).toHaveLength(1);

    // After 24 hours the key is forgotten and the same request makes a new payment.
    await control({ action: 'advance_clock', ms: 24 * 60 * 60 * 1000 + 1 });
    const later = await create('same-key');
    expect(later.id).not.toBe(first.id);
    expect(emulator().state().payments).toHaveLength(2);
  });

  it.each([
    ['a number amount', { amount: { value: 1490, currency: 'RUB' } }, 'amount.value'],
    ['one decimal', { amount: { value: '1490.0', currency: 'RUB' } }, 'amount.value'],
    ['another currency', { amount: { value: '10.00', currency: 'USD' } }, 'amount.currency'],
    ['no return_url', { confirmation: { type: 'redirect' } }, 'confirmation.return_url'],
    ['a long description', { description: 'я'.repeat(129) }, 'description'],
    ['17 metadata keys', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['a nested metadata value', { metadata: { a: { b: 1 } } }, 'metadata.a'],
    [
      'receipt items that do not add up',
      { receipt: { customer: { email: 'a@b.ru' }, items: [{ description: 'x', quantity: 1, amount: { value: '1000.00', currency: 'RUB' }, vat_code: 1 }] } },
      'receipt.items',
    ],
    [
      'a receipt without an e-mail',
      { receipt: { customer: {}, items: [{ description: 'x', quantity: 1, amount: { value: '1490.00', currency: 'RUB' }, vat_code: 1 }] } },
      'receipt.customer.email',
    ],
  ])('rejects %s', async (_name, overrides, parameter) => {
    const res = await call('POST', '/payments', paymentBody(overrides), { 'idempotence-key': `bad-${parameter}` });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', code: 'invalid_request', parameter });
  });

  it('accepts a 54-FZ receipt whose items add up', async () => {
    const payment = await create(
      'receipt-ok',
      paymentBody({
        receipt: {
          customer: { email: 'seller@example.ru' },
          items: [
            {
              description: 'Пакет Basic',
              quantity: 1,
              amount: { value: '1490.00', currency: 'RUB' },
              vat_code: 1,
              payment_subject: 'service',
              payment_mode: 'full_payment',
            },
          ],
        },
      }),
    );
    expect(payment.receipt_registration).toBe('pending');
  });

  it('runs the two-stage machine: waiting_for_capture → capture, or → cancel', async () => {
    const held = await create('two-stage-1', paymentBody({ capture: false }));
    await control({ action: 'pay', paymentId: held.id });
    const waiting = (await (await call('GET', `/payments/${held.id}`)).json()) as PaymentObject;
    expect(waiting).toMatchObject({ status: 'waiting_for_capture', paid: true });
    expect(waiting.expires_at).toBeDefined();
    const captured = await call('POST', `/payments/${held.id}/capture`, {}, { 'idempotence-key': 'cap-1' });
    expect(await captured.json()).toMatchObject({ status: 'succeeded', paid: true, refundable: true });

    const other = await create('two-stage-2', paymentBody({ capture: false }));
    const early = await call('POST', `/payments/${other.id}/cancel`, {}, { 'idempotence-key': 'cancel-early' });
    expect(early.status).toBe(400);
    await control({ action: 'pay', paymentId: other.id });
    const canceled = await call('POST', `/payments/${other.id}/cancel`, {}, { 'idempotence-key': 'cancel-2' });
    expect(await canceled.json()).toMatchObject({
      status: 'canceled',
      paid: false,
      cancellation_details: { party: 'merchant', reason: 'canceled_by_merchant' },
    });
    await emulator().settled();
    expect(receiver.received.map((n) => n.event)).toEqual([
      'payment.waiting_for_capture',
      'payment.succeeded',
      'payment.waiting_for_capture',
      'payment.canceled',
    ]);
  });

  it('refunds a succeeded payment up to its amount', async () => {
    const payment = await create('refund-src');
    await control({ action: 'pay', paymentId: payment.id });
    const refund = await call('POST', '/refunds', { payment_id: payment.id, amount: { value: '490.00', currency: 'RUB' } }, { 'idempotence-key': 'r1' });
    const object = (await refund.json()) as { id: string; status: string };
    expect(object.status).toBe('succeeded');
    expect(await (await call('GET', `/refunds/${object.id}`)).json()).toMatchObject({ payment_id: payment.id });
    const tooMuch = await call('POST', '/refunds', { payment_id: payment.id, amount: { value: '1000.01', currency: 'RUB' } }, { 'idempotence-key': 'r2' });
    expect(tooMuch.status).toBe(400);
    const read = (await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject;
    expect(read.refunded_amount).toEqual({ value: '490.00', currency: 'RUB' });
  });
});

describe('YooKassa emulator: faults', () => {
  it('answers 500, 429 with retry_after and 202 for the next calls only', async () => {
    await control({ fault: { kind: 'http_500', on: 'create' } });
    await control({ fault: { kind: 'http_429', retryAfterMs: 50 } });
    await control({ fault: { kind: 'http_202', on: 'get', retryAfterMs: 30 } });
    const r500 = await call('POST', '/payments', paymentBody(), { 'idempotence-key': 'f1' });
    expect(r500.status).toBe(500);
    expect(await r500.json()).toMatchObject({ code: 'internal_server_error' });
    const r429 = await call('POST', '/payments', paymentBody(), { 'idempotence-key': 'f1' });
    expect(r429.status).toBe(429);
    expect(await r429.json()).toMatchObject({ code: 'too_many_requests', retry_after: 50 });
    const ok = await create('f1');
    const r202 = await call('GET', `/payments/${ok.id}`);
    expect(r202.status).toBe(202);
    expect(await r202.json()).toMatchObject({ retry_after: 30 });
    expect((await call('GET', `/payments/${ok.id}`)).status).toBe(200);
    expect(emulator().state().payments).toHaveLength(1);
  });

  it('replays the original answer for the same key, not the payment as it is now', async () => {
    const first = await create('replay-key');
    await emulator().act({ action: 'pay', paymentId: first.id });
    expect(((await (await call('GET', `/payments/${first.id}`)).json()) as PaymentObject).status).toBe('succeeded');
    const replay = await create('replay-key');
    expect(replay).toEqual(first);
    expect(replay).toMatchObject({ status: 'pending', paid: false, confirmation: { type: 'redirect' } });
  });

  it('creates the payment but answers 500; the same key then returns that payment', async () => {
    await control({ fault: { kind: 'succeed_then_500', on: 'create' } });
    const lost = await call('POST', '/payments', paymentBody(), { 'idempotence-key': 'lost-answer' });
    expect(lost.status).toBe(500);
    expect(emulator().state().payments).toHaveLength(1);
    const retried = await create('lost-answer');
    expect(retried.id).toBe(emulator().state().payments[0]!.id);
    expect(emulator().state().payments).toHaveLength(1);
  });
});

describe('YooKassa emulator: checkout page and notifications', () => {
  it('shows the shop, amount and description and settles on "Оплатить"', async () => {
    const payment = await create('page-pay');
    const page = await fetch(payment.confirmation!.confirmation_url);
    const html = await page.text();
    expect(html).toContain('Магазин № 100500');
    expect(html).toContain('1\u00a0490,00 ₽');
    expect(html).toContain('Пакет Basic: 50 кредитов');
    expect(html).toContain('Оплатить');
    expect(html).toContain('Отменить');
    expect(html).toContain('5555 5555 5555 4477');

    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;
    const res = await fetch(new URL(action, sandbox.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ card: '5555 5555 5555 4477', action: 'pay' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://shop.test/billing?payment=p1');
    // The notification follows the buyer's return (no order is promised).
    await emulator().settled();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ event: 'payment.succeeded', object: { id: payment.id, status: 'succeeded', paid: true } });
    expect(notifications()).toEqual([expect.objectContaining({ event: 'payment.succeeded', status: 200, attempt: 1 })]);
    expect(await (await fetch(payment.confirmation!.confirmation_url)).text()).toContain('Платёж уже обработан');
  });

  it('cancels with the chosen reason on "Отменить", and a declining test card cancels too', async () => {
    const payment = await create('page-cancel');
    await fetch(payment.confirmation!.confirmation_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'cancel', reason: 'insufficient_funds' }),
      redirect: 'manual',
    });
    const read = (await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject;
    expect(read).toMatchObject({ status: 'canceled', cancellation_details: { party: 'payment_network', reason: 'insufficient_funds' } });

    const declined = await create('page-decline');
    await control({ action: 'pay', paymentId: declined.id, card: '5555555555554592' });
    const after = (await (await call('GET', `/payments/${declined.id}`)).json()) as PaymentObject;
    expect(after.cancellation_details).toEqual({ party: 'payment_network', reason: '3d_secure_failed' });
  });

  it('delivers duplicates, stale out-of-order events, and retries a lost delivery', async () => {
    await control({ fault: { kind: 'duplicate_notification' } });
    await control({ fault: { kind: 'out_of_order_notification' } });
    await control({ fault: { kind: 'fail_notification' }, count: 2 });
    const payment = await create('notify-faults');
    await control({ action: 'pay', paymentId: payment.id });
    expect(receiver.received.map((n) => [n.event, n.object.status])).toEqual([
      ['payment.succeeded', 'succeeded'],
      ['payment.succeeded', 'succeeded'],
      ['payment.waiting_for_capture', 'waiting_for_capture'],
    ]);
    expect(notifications().map((n) => n.status)).toEqual(['lost', 'lost', 200, 200, 200]);
  });

  it('sends the buyer back first and notifies a moment later', async () => {
    const payment = await create('order-default');
    const back = await submit(payment, 'pay');
    expect(back.status).toBe(303);
    // Already paid when the buyer is back: a GET tells the truth before any notification.
    expect(((await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject).status).toBe('succeeded');
    await emulator().settled();
    expect(receiver.received.map((n) => n.event)).toEqual(['payment.succeeded']);
    const [sent] = notifications();
    expect(Date.parse(sent!.at)).toBeGreaterThanOrEqual(Date.parse(emulator().state().returns[payment.id]!));
  });

  it('late_notification: the bank decides later; the payment reads pending until then', async () => {
    const payment = await create('order-late');
    await control({ fault: { kind: 'late_notification', delayMs: 10 * 60_000 } });
    expect((await submit(payment, 'pay')).status).toBe(303);
    await emulator().settled();
    expect(((await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject).status).toBe('pending');
    expect(receiver.received).toEqual([]);
    expect(emulator().state().deferred).toHaveLength(1);
    // A second press while the bank decides changes nothing.
    expect((await submit(payment, 'cancel')).status).toBe(303);
    await control({ action: 'advance_clock', ms: 10 * 60_000 });
    expect(((await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject).status).toBe('succeeded');
    expect(receiver.received.map((n) => n.event)).toEqual(['payment.succeeded']);
  });

  it('cancel_after_return: paid on the page, canceled later with the reason', async () => {
    const payment = await create('order-cancel-later');
    await control({ fault: { kind: 'cancel_after_return', delayMs: 60_000, reason: 'fraud_suspected' } });
    await submit(payment, 'pay');
    expect(((await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject).status).toBe('pending');
    await control({ action: 'advance_clock', ms: 60_000 });
    const after = (await (await call('GET', `/payments/${payment.id}`)).json()) as PaymentObject;
    expect(after).toMatchObject({ status: 'canceled', paid: false, cancellation_details: { reason: 'fraud_suspected', party: 'yoo_money' } });
    expect(receiver.received.map((n) => n.event)).toEqual(['payment.canceled']);
  });

  it('keeps retrying while the app answers an error, and can drop a notification entirely', async () => {
    receiver.answer = 503;
    const payment = await create('notify-retry');
    const settle = control({ action: 'pay', paymentId: payment.id });
    // The app recovers only after it refused the first delivery.
    await expect.poll(() => notifications().length, { interval: 5 }).toBeGreaterThan(0);
    receiver.answer = 200;
    await settle;
    const statuses = notifications().map((n) => n.status);
    expect(statuses[0]).toBe(503);
    expect(statuses.at(-1)).toBe(200);

    await control({ fault: { kind: 'drop_notification' } });
    const silent = await create('notify-drop');
    await control({ action: 'pay', paymentId: silent.id });
    expect(notifications().filter((n) => n.paymentId === silent.id)).toEqual([expect.objectContaining({ status: 'dropped' })]);
    await control({ action: 'resend_notification', paymentId: silent.id });
    expect(receiver.received.filter((n) => n.object.id === silent.id)).toHaveLength(1);
  });

  it('cancels an unpaid payment after an hour and an uncaptured hold after 7 days', async () => {
    const unpaid = await create('expire-unpaid');
    const held = await create('expire-held', paymentBody({ capture: false }));
    await control({ action: 'pay', paymentId: held.id });
    await control({ action: 'advance_clock', ms: 60 * 60 * 1000 });
    const expired = (await (await call('GET', `/payments/${unpaid.id}`)).json()) as PaymentObject;
    expect(expired).toMatchObject({ status: 'canceled', cancellation_details: { party: 'yoo_money', reason: 'expired_on_confirmation' } });
    expect(((await (await call('GET', `/payments/${held.id}`)).json()) as PaymentObject).status).toBe('waiting_for_capture');
    await control({ action: 'advance_clock', ms: 7 * 24 * 60 * 60 * 1000 });
    const lapsed = (await (await call('GET', `/payments/${held.id}`)).json()) as PaymentObject;
    expect(lapsed.cancellation_details).toEqual({ party: 'yoo_money', reason: 'expired_on_capture' });
    expect(receiver.received.map((n) => n.event)).toEqual(['payment.waiting_for_capture', 'payment.canceled', 'payment.canceled']);
  });

  it('refuses unknown faults and actions on settled payments', async () => {
    expect((await control({ fault: { kind: 'nonsense' } })).status).toBe(400);
    const payment = await create('settled-twice');
    await control({ action: 'pay', paymentId: payment.id });
    expect((await control({ action: 'pay', paymentId: payment.id })).status).toBe(400);
  });
});
