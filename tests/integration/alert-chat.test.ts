import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { capturedLog } from '../helpers/log.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import type { TelegramEmulator } from '../../sandbox/telegram/index.ts';

describe('a wrong TELEGRAM_CHAT_ID is an operator error, not silently lost alerts', () => {
  let stack: TestStack;
  let admin: SignedInUser;
  const sink = capturedLog();
  beforeAll(async () => {
    // -100123 looks like a supergroup id, but the bot is in no such chat.
    stack = await startStack({ background: true, log: sink.log, env: { TELEGRAM_CHAT_ID: '-100123', TELEGRAM_MIN_INTERVAL_MS: '0' } });
    admin = await createSignedInUser(stack.app.ctx, { email: 'ops@example.ru', role: 'admin' });
  });
  afterAll(async () => {
    await stack.stop();
  });

  const alertsPage = async () => (await apiFetch(stack.app.url, '/admin/alerts', { cookie: admin.cookie })).text();

  it('checks the chat at start and says in the log what to fix', async () => {
    await expect.poll(() => stack.app.ctx.alertChat.status()?.state).toBe('chat_not_found');
    const error = sink.lines.find((l) => l.level === 'error' && l.mod === 'alerts');
    expect(error?.msg).toContain('TELEGRAM_CHAT_ID=-100123');
    expect(error?.msg).toContain('Bad Request: chat not found');
    expect(JSON.stringify(sink.lines)).not.toContain(SANDBOX_CREDENTIALS.telegramBotToken);
  });

  it('shows the problem on the admin alerts page, in words, in red', async () => {
    const page = await alertsPage();
    expect(page).toMatch(/data-testid="alert-chat" data-state="chat_not_found"/);
    expect(page).toContain('Оповещения не доходят: Telegram не знает чат TELEGRAM_CHAT_ID=-100123');
    expect(page).toContain('role="alert"');
  });

  it('checks again on "test alert": the alert is recorded as failed, and fixed once the bot is in the chat', async () => {
    const res = await apiFetch(stack.app.url, '/api/admin/alerts/test', { cookie: admin.cookie, json: {} });
    expect(await res.json()).toMatchObject({ success: true, notice: 'test_alert_chat_problem', chat: { state: 'chat_not_found', chatId: '-100123' } });
    await stack.app.ctx.notifier.flush();
    expect((await recentAlerts(stack.app.ctx.db, 1))[0]).toMatchObject({ stage: 'TEST_ALERT', delivery: 'failed', deliveryError: '400: Bad Request: chat not found' });

    // The operator adds the bot to the group; the next test finds it and delivers.
    stack.sandbox.emulator<TelegramEmulator>('telegram').registerChat({ id: -100123, type: 'supergroup', title: 'Beem ops' });
    const again = await apiFetch(stack.app.url, '/api/admin/alerts/test', { cookie: admin.cookie, json: {} });
    expect(await again.json()).toMatchObject({ notice: 'test_alert_sent', chat: { state: 'ok', chatTitle: 'Beem ops' } });
    await stack.app.ctx.notifier.flush();
    expect((await recentAlerts(stack.app.ctx.db, 1))[0]).toMatchObject({ stage: 'TEST_ALERT', delivery: 'sent' });
    const page = await alertsPage();
    expect(page).toMatch(/data-testid="alert-chat" data-state="ok"/);
    expect(page).toContain('Чат оператора найден: Beem ops (TELEGRAM_CHAT_ID=-100123)');
  });

  it('turns red again when an alert is refused later (the bot was removed from the chat)', async () => {
    expect(stack.app.ctx.alertChat.status()?.state).toBe('ok');
    stack.sandbox.emulator<TelegramEmulator>('telegram').reset();
    stack.app.ctx.notifier.alert({ stage: 'QUEUE_PROCESSOR', error: 'database is locked' });
    await stack.app.ctx.notifier.flush();
    expect(stack.app.ctx.alertChat.status()).toMatchObject({ state: 'chat_not_found', detail: '400: Bad Request: chat not found' });
    expect(await alertsPage()).toMatch(/data-testid="alert-chat" data-state="chat_not_found"/);
  });

  it('tells a refused token apart from a wrong chat', async () => {
    const other = await startStack({ env: { TELEGRAM_BOT_TOKEN: '100500:wrong-token' } });
    try {
      expect(await other.app.ctx.alertChat.check()).toMatchObject({ state: 'token_rejected', detail: '401: Unauthorized' });
    } finally {
      await other.stop();
    }
  });
});
