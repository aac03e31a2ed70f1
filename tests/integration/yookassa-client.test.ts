import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';
import { createYookassaClient, isYookassaError, type YookassaClientOptions } from '../../src/lib/providers/yookassa/client.ts';
import type { CreatePaymentRequest } from '../../src/lib/providers/yookassa/schemas.ts';
import { createLogger } from '../../src/lib/logger.ts';

let sandbox: Sandbox;
const emulator = () => sandbox.emulator<YookassaEmulator>('yookassa');

function client(overrides: Partial<YookassaClientOptions> = {}) {
  return createYookassaClient({
    apiBase: `${sandbox.url}/yookassa/v3`,
    shopId: SANDBOX_CREDENTIALS.yookassaShopId,
    secretKey: SANDBOX_CREDENTIALS.yookassaSecretKey,
    timeoutMs: 2000,
    maxAttempts: 3,
    retryBaseMs: 10,
    retryMaxDelayMs: 200,
    log: createLogger('silent'),
    ...overrides,
  });
}

const request: CreatePaymentRequest = {
  amount: { value: '390.00', currency: 'RUB' },
  capture: true,
  confirmation: { type: 'redirect', return_url: 'http://127.0.0.1:3000/billing?payment=p1' },
  description: 'Beem — тариф «Разовая покупка», кредитов: 10',
  metadata: { userId: 'u1', paymentId: 'p1', plan: 'single' },
};

async function rejection(promise: Promise<unknown>) {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isYookassaError(err)).toBe(true);
  return err as import('../../src/lib/providers/yookassa/client.ts').YookassaError;
}

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  emulator().reset();
  sandbox.requestCounts.yookassa = 0;
});

describe('YooKassa client against the emulator', () => {
  it('creates and reads a payment, validating the answer', async () => {
    const created = await client().createPayment(request, 'client-key-1');
    expect(created).toMatchObject({ status: 'pending', paid: false, amount: { value: '390.00', currency: 'RUB' } });
    expect(created.confirmation?.confirmation_url).toContain('/yookassa/checkout/');
    expect((await client().getPayment(created.id)).id).toBe(created.id);
  });

  it('reports wrong credentials as a final error carrying YooKassa’s code, without retrying', async () => {
    const err = await rejection(client({ secretKey: 'test_wrong' }).getPayment('2f3b588d-000f-5000-8000-1d6e87c7fbde'));
    expect(err).toMatchObject({ kind: 'http', code: 'invalid_credentials', status: 401, transient: false });
    expect(sandbox.requestCounts.yookassa).toBe(1);
  });

  it('does not retry a 400 and names the parameter', async () => {
    const err = await rejection(client().createPayment({ ...request, description: 'x'.repeat(200) }, 'client-key-400'));
    expect(err).toMatchObject({ code: 'invalid_request', status: 400, transient: false, details: expect.objectContaining({ parameter: 'description' }) });
    expect(sandbox.requestCounts.yookassa).toBe(1);
  });

  it('gives up after the configured attempts of 500 and reports a transient failure', async () => {
    await emulator().injectFault({ fault: { kind: 'http_500', on: 'get' }, count: 5 });
    const created = await client().createPayment(request, 'client-key-500');
    sandbox.requestCounts.yookassa = 0;
    const err = await rejection(client().getPayment(created.id));
    expect(err).toMatchObject({ code: 'internal_server_error', status: 500, transient: true });
    expect(sandbox.requestCounts.yookassa).toBe(3);
    const once = await rejection(client().getPayment(created.id, { maxAttempts: 1 }));
    expect(once.transient).toBe(true);
  });

  it('times out a slow answer and retries it with the same Idempotence-Key', async () => {
    await emulator().injectFault({ fault: { kind: 'slow', on: 'create', delayMs: 800 } });
    const created = await client({ timeoutMs: 300 }).createPayment(request, 'client-key-slow');
    // The slow first call finishes later and must get the same payment back, not a second one.
    await emulator().callsSettled();
    expect(emulator().state().payments.map((p) => p.id)).toEqual([created.id]);
    await emulator().injectFault({ fault: { kind: 'slow', on: 'get', delayMs: 400 } });
    const err = await rejection(client({ timeoutMs: 100, maxAttempts: 1 }).getPayment(created.id));
    expect(err).toMatchObject({ kind: 'network', transient: true });
  });

  it('refuses a 200 answer that is not a payment, naming the field', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x","status":"paid"}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const odd = client({ apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3` });
      const err = await rejection(odd.getPayment('x'));
      expect(err).toMatchObject({ kind: 'invalid_response', transient: false });
      expect(err.message).toContain('status');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('YooKassa client waits', () => {
  /** A client whose pauses are recorded instead of slept (the clock is ours to inject). */
  function recordingClient(overrides: Partial<YookassaClientOptions>) {
    const waits: number[] = [];
    return { waits, client: client({ ...overrides, sleep: async (ms) => void waits.push(ms) }) };
  }

  it('honours retry_after of a 202 and repeats the same read', async () => {
    const created = await client().createPayment(request, 'client-key-202');
    await emulator().injectFault({ fault: { kind: 'http_202', on: 'get', retryAfterMs: 150 } });
    sandbox.requestCounts.yookassa = 0;
    const { waits, client: reader } = recordingClient({ retryBaseMs: 1000, retryMaxDelayMs: 2000 });
    expect((await reader.getPayment(created.id)).id).toBe(created.id);
    expect(waits).toEqual([150]);
    expect(sandbox.requestCounts.yookassa).toBe(2);
  });

  it('caps a long retry_after at the configured maximum', async () => {
    const created = await client().createPayment(request, 'client-key-cap');
    await emulator().injectFault({ fault: { kind: 'http_429', on: 'get', retryAfterMs: 60_000 } });
    const { waits, client: reader } = recordingClient({ retryMaxDelayMs: 100 });
    expect((await reader.getPayment(created.id)).id).toBe(created.id);
    expect(waits).toEqual([100]);
  });
});
