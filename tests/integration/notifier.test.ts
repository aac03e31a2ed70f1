import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { TelegramEmulator, TelegramFault } from '../../sandbox/telegram/index.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { inTransaction } from '../../src/lib/db/database.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createTelegramClient } from '../../src/lib/providers/telegram/client.ts';
import { createTelegramNotifier, type TelegramNotifierOptions } from '../../src/lib/notify/telegram-notifier.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';
import { formatAlert } from '../../src/lib/notify/format.ts';

let sandbox: Sandbox;
let telegram: TelegramEmulator;
let db: Db;
let clock: ManualClock;
let slept: number[];
const log = createLogger('silent');

beforeAll(async () => {
  sandbox = await startSandbox();
  telegram = sandbox.emulator<TelegramEmulator>('telegram');
});
afterAll(() => sandbox.close());
beforeEach(() => {
  telegram.reset();
  db = openDatabase(':memory:');
  migrate(db);
  clock = new ManualClock();
  slept = [];
});

function notifier(overrides: Partial<TelegramNotifierOptions> & { token?: string } = {}) {
  const client = createTelegramClient({
    apiBase: `${sandbox.url}/telegram`,
    botToken: overrides.token ?? SANDBOX_CREDENTIALS.telegramBotToken,
    timeoutMs: 2000,
  });
  return createTelegramNotifier({
    db,
    log,
    clock,
    telegram: { client, chatId: SANDBOX_CREDENTIALS.telegramChatId },
    minIntervalMs: 0,
    // Waits are recorded, not slept: the test checks what would have been waited.
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...overrides,
  });
}

const fault = (f: Partial<TelegramFault>) => telegram.injectFault(f);
const deliveries = async () => (await recentAlerts(db, 50)).reverse().map((a) => a.delivery);

describe('alert format', () => {
  it('is the spec format, line by line', () => {
    const { plain, html } = formatAlert({ stage: 'GPT_ENHANCE_PROMPT', error: 'timeout', userId: '105580068296651888951', generationId: 'gen_1737014400000_abc123' });
    expect(plain).toBe('⚠️ Beem Error\nStage: GPT_ENHANCE_PROMPT\nUser: 105580068296651888951\nGeneration: gen_1737014400000_abc123\nError: timeout');
    expect(html).toBe('<b>⚠️ Beem Error</b>\nStage: GPT_ENHANCE_PROMPT\nUser: 105580068296651888951\nGeneration: gen_1737014400000_abc123\nError: timeout');
  });

  it('shows a dash for a missing user or generation', () => {
    expect(formatAlert({ stage: 'QUEUE_PROCESSOR', error: 'x' }).plain).toContain('User: -\nGeneration: -\n');
  });
});

describe('Telegram notifier against the emulator', () => {
  it('delivers the alert and records it as sent', async () => {
    const n = notifier();
    n.alert({ stage: 'MINIMAX_CALL', error: 'API error: Rate limit exceeded (HTTP 429)', userId: 'u1', generationId: 'g1' });
    await n.flush();
    expect(telegram.messages).toHaveLength(1);
    expect(telegram.messages[0]).toMatchObject({ chatId: SANDBOX_CREDENTIALS.telegramChatId, parseMode: 'HTML' });
    expect(telegram.messages[0]?.visible).toBe('⚠️ Beem Error\nStage: MINIMAX_CALL\nUser: u1\nGeneration: g1\nError: API error: Rate limit exceeded (HTTP 429)');
    const [row] = await recentAlerts(db);
    expect(row).toMatchObject({ stage: 'MINIMAX_CALL', userId: 'u1', generationId: 'g1', delivery: 'sent', deliveryError: null, createdAt: clock.now() });
  });

  it('escapes markup in the error so Telegram accepts it and shows it as written', async () => {
    const n = notifier();
    const error = 'Unexpected token < in JSON at position 0: <html><b>502 & "Bad Gateway"</b>';
    n.alert({ stage: 'VIDEO_DOWNLOAD', error });
    await n.flush();
    expect(await deliveries()).toEqual(['sent']);
    expect(telegram.messages[0]?.visible.endsWith(`Error: ${error}`)).toBe(true);
  });

  it('keeps a huge error under the 4096-character limit', async () => {
    const n = notifier();
    n.alert({ stage: 'QUEUE_PROCESSOR', error: `Stack: ${'at frame <anonymous> & more\n'.repeat(600)}` });
    await n.flush();
    expect(await deliveries()).toEqual(['sent']);
    const visible = telegram.messages[0]?.visible ?? '';
    expect(visible.length).toBeLessThanOrEqual(4096);
    expect(visible.length).toBeGreaterThan(3900);
    expect(visible.endsWith('…')).toBe(true);
  });

  it('sends one stage::error per minute, records the duplicates, and sends again after the minute', async () => {
    const n = notifier();
    const timeout = { stage: 'GPT_ENHANCE_PROMPT' as const, error: 'timeout' };
    n.alert(timeout);
    n.alert({ ...timeout, generationId: 'g2' });
    clock.advance(59_000);
    n.alert(timeout);
    n.alert({ stage: 'GPT_CAMERA_COMPILER', error: 'timeout' });
    n.alert({ stage: 'GPT_ENHANCE_PROMPT', error: 'rate limit exceeded (HTTP 429)' });
    clock.advance(1_000);
    n.alert(timeout);
    await n.flush();
    expect(await deliveries()).toEqual(['sent', 'suppressed', 'suppressed', 'sent', 'sent', 'sent']);
    expect(telegram.messages).toHaveLength(4);
  });

  it('waits out retry_after once on 429 and then delivers', async () => {
    fault({ kind: 'rate_limit', retryAfter: 7 });
    const n = notifier();
    n.alert({ stage: 'STUCK_GENERATION', error: 'stuck for 15 minutes' });
    await n.flush();
    expect(slept).toEqual([7000]);
    expect(await deliveries()).toEqual(['sent']);
    expect(telegram.calls.map((c) => c.status)).toEqual([429, 200]);
  });

  it('gives up after the one retry when Telegram keeps answering 429', async () => {
    fault({ kind: 'rate_limit', retryAfter: 3, count: 2 });
    const n = notifier();
    n.alert({ stage: 'STUCK_GENERATION', error: 'stuck' });
    await n.flush();
    expect(slept).toEqual([3000]);
    const [row] = await recentAlerts(db);
    expect(row).toMatchObject({ delivery: 'failed', deliveryError: '429: Too Many Requests: retry after 3' });
  });

  it('does not wait for a retry_after beyond its cap', async () => {
    fault({ kind: 'rate_limit', retryAfter: 600 });
    const n = notifier({ maxRetryAfterMs: 30_000 });
    n.alert({ stage: 'PAYMENT', error: 'x' });
    await n.flush();
    expect(slept).toEqual([]);
    expect(await deliveries()).toEqual(['failed']);
  });

  it('resends as plain text when Telegram cannot parse the HTML', async () => {
    fault({ kind: 'bad_entities' });
    const n = notifier();
    n.alert({ stage: 'MINIMAX_CALL', error: 'a <b> c' });
    await n.flush();
    expect(await deliveries()).toEqual(['sent']);
    expect(telegram.messages[0]).toMatchObject({ parseMode: null });
    expect(telegram.messages[0]?.visible.endsWith('Error: a <b> c')).toBe(true);
  });

  it('retries a 500 once', async () => {
    fault({ kind: 'server_error' });
    const n = notifier({ retryDelayMs: 250 });
    n.alert({ stage: 'MINIMAX_CALLBACK', error: 'x' });
    await n.flush();
    expect(slept).toEqual([250]);
    expect(await deliveries()).toEqual(['sent']);
  });

  it('records 403 (bot blocked) and 401 (bad token) as failed without throwing', async () => {
    fault({ kind: 'blocked' });
    const blocked = notifier();
    expect(() => blocked.alert({ stage: 'MINIMAX_GENERATION', error: 'a' })).not.toThrow();
    await blocked.flush();
    const badToken = notifier({ token: '1:wrong' });
    expect(() => badToken.alert({ stage: 'MINIMAX_GENERATION', error: 'b' })).not.toThrow();
    await badToken.flush();
    const rows = (await recentAlerts(db)).reverse();
    expect(rows.map((r) => [r.delivery, r.deliveryError])).toEqual([
      ['failed', '403: Forbidden: bot was blocked by the user'],
      ['failed', '401: Unauthorized'],
    ]);
    expect(rows.some((r) => r.deliveryError?.includes('wrong'))).toBe(false);
  });

  it('returns from alert() before delivery, even when Telegram is slow', async () => {
    fault({ kind: 'slow', ms: 400 });
    const n = notifier();
    n.alert({ stage: 'VIDEO_DOWNLOAD', error: 'File not found on MiniMax servers' });
    expect(await recentAlerts(db)).toEqual([]);
    expect(telegram.messages).toHaveLength(0);
    await n.flush();
    expect(telegram.messages).toHaveLength(1);
    expect(await deliveries()).toEqual(['sent']);
  });

  it('records a timed-out delivery as failed', async () => {
    fault({ kind: 'slow', ms: 1500, count: 2 });
    const client = createTelegramClient({ apiBase: `${sandbox.url}/telegram`, botToken: SANDBOX_CREDENTIALS.telegramBotToken, timeoutMs: 200 });
    const n = createTelegramNotifier({ db, log, clock, telegram: { client, chatId: '1' }, minIntervalMs: 0, sleep: async () => {} });
    n.alert({ stage: 'VIDEO_DOWNLOAD', error: 'x' });
    await n.flush();
    expect((await recentAlerts(db))[0]).toMatchObject({ delivery: 'failed', deliveryError: 'timeout after 200 ms' });
  });

  it('an alert raised inside a transaction that rolls back is still recorded', async () => {
    const n = notifier();
    await expect(
      inTransaction(db, async () => {
        n.alert({ stage: 'QUEUE_PROCESSOR', error: 'database error' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await n.flush();
    expect(await deliveries()).toEqual(['sent']);
  });

  it('records an alert raised inside a transaction still open when delivery is done, once it ends', async () => {
    const n = notifier();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = inTransaction(db, async (tx) => {
      await tx.run(`INSERT INTO pending_admins (email, grantedBy, createdAt) VALUES ('held@example.ru', 'cli', 1)`);
      n.alert({ stage: 'PAYMENT', error: 'raised inside a transaction' });
      await held;
    });
    // Delivery happens while the transaction stays open; only the row has to wait for its end.
    await expect.poll(() => telegram.messages.length).toBe(1);
    release();
    await transaction;
    await n.flush();
    expect(await deliveries()).toEqual(['sent']);
    expect(await db.value('SELECT COUNT(*) FROM pending_admins')).toBe(1);
  });

  it('records alerts as disabled when Telegram is not configured', async () => {
    const n = createTelegramNotifier({ db, log, clock, telegram: null });
    n.alert({ stage: 'TEST_ALERT', error: 'hello' });
    await n.flush();
    expect((await recentAlerts(db))[0]).toMatchObject({ stage: 'TEST_ALERT', delivery: 'disabled' });
    expect(telegram.calls).toHaveLength(0);
  });

  it('spaces messages by the minimum interval', async () => {
    const n = notifier({ minIntervalMs: 1000 });
    n.alert({ stage: 'PAYMENT', error: 'a' });
    n.alert({ stage: 'PAYMENT', error: 'b' });
    await n.flush();
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThan(0);
    expect(slept[0]).toBeLessThanOrEqual(1000);
  });
});
