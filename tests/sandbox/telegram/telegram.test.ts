import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../../../sandbox/defaults.ts';
import type { TelegramEmulator } from '../../../sandbox/telegram/index.ts';
import { parseTelegramHtml } from '../../../sandbox/telegram/entities.ts';

let sandbox: Sandbox;
let telegram: TelegramEmulator;
beforeAll(async () => {
  sandbox = await startSandbox();
  telegram = sandbox.emulator<TelegramEmulator>('telegram');
});
afterAll(() => sandbox.close());
beforeEach(() => telegram.reset());

const api = (method: string, body: unknown, token: string = SANDBOX_CREDENTIALS.telegramBotToken) =>
  fetch(`${sandbox.url}/telegram/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

const chat_id = SANDBOX_CREDENTIALS.telegramChatId;

describe('Telegram HTML entity parsing', () => {
  it.each([
    ['<b>bold</b> &lt;tag&gt; &amp; &quot;q&quot; &#8364;', 'bold <tag> & "q" €'],
    ['<a href="https://beem.ru">link</a> <code>x</code>', 'link x'],
    ['<span class="tg-spoiler">s</span>', 's'],
  ])('accepts %s', (html, visible) => {
    expect(parseTelegramHtml(html)).toMatchObject({ ok: true, visible });
  });

  it('makes the entities of the markup, offsets in UTF-16 units', () => {
    const parsed = parseTelegramHtml('⚠️ <b>Stage</b>: <code>X</code> <a href="https://beem.ru">сайт</a> <pre><code class="language-ts">x</code></pre> <i></i>');
    expect(parsed).toEqual({
      ok: true,
      visible: '⚠️ Stage: X сайт x ',
      entities: [
        { type: 'bold', offset: 3, length: 5 },
        { type: 'code', offset: 10, length: 1 },
        { type: 'text_link', offset: 12, length: 4, url: 'https://beem.ru' },
        { type: 'pre', offset: 17, length: 1, language: 'ts' },
      ],
    });
  });

  it.each([
    ['a < b', /Unexpected character "<"/],
    ['fish & chips', /Character entity expected/],
    ['<div>x</div>', /Unsupported start tag "div"/],
    ['<b>x</i>', /Unmatched end tag/],
    ['<b>x', /Can't find end tag/],
  ])('refuses %s', (html, error) => {
    const parsed = parseTelegramHtml(html);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^Bad Request: can't parse entities: /);
    if (!parsed.ok) expect(parsed.error).toMatch(error);
  });
});

describe('Telegram Bot API emulator', () => {
  it('sends a message with the real response shape', async () => {
    const { status, body } = await api('sendMessage', { chat_id, text: 'hello' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, result: { message_id: 1, chat: { id: Number(chat_id), type: 'private' }, text: 'hello', from: { is_bot: true } } });
    expect(typeof (body.result as { date: number }).date).toBe('number');
  });

  it.each([0, '0', 'not-a-chat', '@no_such_channel', -100123, '-100123'])('answers chat not found for chat_id %s, like the real API', async (id) => {
    const res = await api('sendMessage', { chat_id: id, text: 'x' });
    expect(res).toEqual({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } });
    expect((await api('getChat', { chat_id: id })).body.description).toBe('Bad Request: chat not found');
    expect(telegram.messages).toHaveLength(0);
  });

  it('answers getChat for the operator chat and for chats a test registers, by id or @username', async () => {
    expect((await api('getChat', { chat_id })).body).toMatchObject({ ok: true, result: { id: Number(chat_id), type: 'private', first_name: 'Operator' } });
    const control = await fetch(`${sandbox.url}/_sandbox/telegram/faults`, {
      method: 'POST',
      body: JSON.stringify({ action: 'register_chat', chat: { id: -1001234567890, type: 'channel', title: 'Beem ops', username: 'beem_ops' } }),
    });
    expect(control.status).toBe(200);
    expect((await api('getChat', { chat_id: '@beem_ops' })).body.result).toMatchObject({ id: -1001234567890, type: 'channel', title: 'Beem ops' });
    const sent = await api('sendMessage', { chat_id: -1001234567890, text: 'to the channel' });
    expect(sent.body.result).toMatchObject({ chat: { id: -1001234567890, type: 'channel', title: 'Beem ops' } });
    telegram.reset();
    expect((await api('getChat', { chat_id: '@beem_ops' })).status).toBe(400);
  });

  it('takes parameters from the query string as well as the body', async () => {
    const query = new URLSearchParams({ chat_id, text: 'из строки запроса' });
    const res = await fetch(`${sandbox.url}/telegram/bot${SANDBOX_CREDENTIALS.telegramBotToken}/sendMessage?${query}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, result: { text: 'из строки запроса' } });
    const mixed = await fetch(`${sandbox.url}/telegram/bot${SANDBOX_CREDENTIALS.telegramBotToken}/getChat?chat_id=${chat_id}`, { method: 'POST' });
    expect((await mixed.json()) as unknown).toMatchObject({ ok: true, result: { id: Number(chat_id) } });
  });

  it('returns the entities of the message: markup, links found in the text, or the ones sent', async () => {
    const html = await api('sendMessage', { chat_id, text: '<b>Stage</b>: see https://beem.ru/admin', parse_mode: 'HTML' });
    expect(html.body.result).toMatchObject({
      text: 'Stage: see https://beem.ru/admin',
      entities: [
        { type: 'bold', offset: 0, length: 5 },
        { type: 'url', offset: 11, length: 21 },
      ],
    });
    const plain = await api('sendMessage', { chat_id, text: 'no markup here' });
    expect(plain.body.result).not.toHaveProperty('entities');
    const explicit = await api('sendMessage', { chat_id, text: 'bold word', entities: [{ type: 'bold', offset: 0, length: 4 }] });
    expect(explicit.body.result).toMatchObject({ entities: [{ type: 'bold', offset: 0, length: 4 }] });
    const beyond = await api('sendMessage', { chat_id, text: 'short', entities: [{ type: 'bold', offset: 3, length: 9 }] });
    expect(beyond.status).toBe(400);
  });

  it('answers getMe', async () => {
    expect((await api('getMe', {})).body).toMatchObject({ ok: true, result: { is_bot: true, username: 'beem_alert_bot' } });
  });

  it.each([
    ['unknown token', 'sendMessage', { chat_id, text: 'x' }, '1:bad', 401, 'Unauthorized'],
    ['missing chat_id', 'sendMessage', { text: 'x' }, undefined, 400, 'Bad Request: chat_id is empty'],
    ['missing text', 'sendMessage', { chat_id }, undefined, 400, 'Bad Request: message text is empty'],
    ['text too long', 'sendMessage', { chat_id, text: 'я'.repeat(4097) }, undefined, 400, 'Bad Request: message is too long'],
    ['bad HTML', 'sendMessage', { chat_id, text: '<x>', parse_mode: 'HTML' }, undefined, 400, `Bad Request: can't parse entities: Unsupported start tag "x" at byte offset 0`],
    ['unknown method', 'sendPhotoNow', { chat_id }, undefined, 404, 'Not Found'],
  ])('%s → %i', async (_name, method, body, token, status, description) => {
    const res = await api(method, body, token);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ ok: false, error_code: status, description });
  });

  it('counts the limit after entity parsing', async () => {
    const text = `<b>${'a'.repeat(4090)}</b>&amp;`;
    expect((await api('sendMessage', { chat_id, text, parse_mode: 'HTML' })).status).toBe(200);
  });

  it('injects 429 with retry_after, 403 and 500', async () => {
    telegram.injectFault({ kind: 'rate_limit', retryAfter: 5 });
    telegram.injectFault({ kind: 'blocked' });
    telegram.injectFault({ kind: 'server_error' });
    expect((await api('sendMessage', { chat_id, text: 'x' })).body).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 5',
      parameters: { retry_after: 5 },
    });
    expect((await api('sendMessage', { chat_id, text: 'x' })).status).toBe(403);
    expect((await api('sendMessage', { chat_id, text: 'x' })).status).toBe(500);
    expect((await api('sendMessage', { chat_id, text: 'x' })).status).toBe(200);
  });

  it('lists received messages on the inbox page, newest first, escaped', async () => {
    await api('sendMessage', { chat_id, text: 'first <b>bold</b>', parse_mode: 'HTML' });
    await api('sendMessage', { chat_id, text: 'second <script>' });
    const res = await fetch(`${sandbox.url}/telegram/inbox`);
    const html = await res.text();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('http-equiv="refresh"');
    expect(html.indexOf('second &lt;script&gt;')).toBeLessThan(html.indexOf('first bold'));
    expect(html).not.toContain('<script>');
  });

  it('accepts faults through the control API and refuses unknown ones', async () => {
    const ok = await fetch(`${sandbox.url}/_sandbox/telegram/faults`, { method: 'POST', body: JSON.stringify({ kind: 'blocked', count: 2 }) });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${sandbox.url}/_sandbox/telegram/faults`, { method: 'POST', body: JSON.stringify({ kind: 'nope' }) });
    expect(bad.status).toBe(400);
    const state = (await (await fetch(`${sandbox.url}/_sandbox/telegram/state`)).json()) as { pendingFaults: unknown[] };
    expect(state.pendingFaults).toHaveLength(1);
  });
});
