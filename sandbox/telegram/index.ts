import { z } from 'zod';
import { FaultQueue, escapeHtml, readFormOrJson, sendHtml, sendJson, sleep, type Emulator, type SandboxRequest } from '../core.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import { parseTelegramHtml } from './entities.ts';

/**
 * The Telegram Bot API under `/telegram` (reference/telegram-bot-api.md): `bot<token>/
 * sendMessage` and `getMe` with the real `{ok, result}` / `{ok:false, error_code,
 * description, parameters}` shapes, and `GET /telegram/inbox`, a page listing the
 * messages received (newest first, refreshing itself) — the operator's chat in the sandbox.
 *
 * Faults for the next N calls: `POST /_sandbox/telegram/faults {kind, count?, retryAfter?, ms?}`.
 */

export const TELEGRAM_FAULT_KINDS = ['rate_limit', 'blocked', 'server_error', 'slow', 'chat_not_found', 'bad_entities'] as const;

const faultSchema = z.object({
  kind: z.enum(TELEGRAM_FAULT_KINDS),
  count: z.number().int().min(1).max(1000).default(1),
  /** Seconds, for `rate_limit`. */
  retryAfter: z.number().int().min(1).max(3600).default(1),
  /** Delay before answering, for `slow`. */
  ms: z.number().int().min(0).max(120_000).default(5_000),
});
export type TelegramFault = z.infer<typeof faultSchema>;

export interface ReceivedMessage {
  messageId: number;
  chatId: string;
  text: string;
  /** The text as the chat shows it (markup parsed). */
  visible: string;
  parseMode: string | null;
  date: number;
}

export const TELEGRAM_TEXT_LIMIT = 4096;

const BOT = { id: 100500, is_bot: true, first_name: 'Beem Alerts', username: 'beem_alert_bot' };

export class TelegramEmulator implements Emulator {
  readonly prefix = '/telegram';
  readonly faults = new FaultQueue<TelegramFault>();
  messages: ReceivedMessage[] = [];
  /** Every Bot API call, including refused ones (method, HTTP status). */
  calls: Array<{ method: string; status: number }> = [];
  private nextMessageId = 1;

  constructor(private readonly tokens: string[] = [SANDBOX_CREDENTIALS.telegramBotToken]) {}

  state() {
    return { messages: this.messages, calls: this.calls, pendingFaults: this.faults.pending() };
  }

  injectFault(body: unknown): void {
    const fault = faultSchema.parse(body);
    this.faults.add(fault, fault.count);
  }

  reset(): void {
    this.messages = [];
    this.calls = [];
    this.faults.clear();
    this.nextMessageId = 1;
  }

  async handle({ req, res, path, method }: SandboxRequest): Promise<boolean> {
    if (path === '/inbox' && method === 'GET') {
      sendHtml(res, 200, this.inboxPage());
      return true;
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
    if (!match) return false;
    const [, token, rawMethod] = match;
    const apiMethod = (rawMethod ?? '').toLowerCase();
    const reply = (status: number, body: Record<string, unknown>): true => {
      this.calls.push({ method: apiMethod, status });
      sendJson(res, status, body);
      return true;
    };
    const fail = (code: number, description: string, parameters?: Record<string, unknown>) =>
      reply(code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

    const params = await readFormOrJson(req).catch(() => null);
    if (!this.tokens.includes(token ?? '')) return fail(401, 'Unauthorized');
    if (params === null) return fail(400, "Bad Request: can't parse JSON object");

    if (apiMethod === 'getme') return reply(200, { ok: true, result: { ...BOT, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
    if (apiMethod !== 'sendmessage') return fail(404, 'Not Found');

    const fault = this.faults.take();
    if (fault?.kind === 'slow') await sleep(fault.ms);
    if (res.destroyed) return true;
    if (fault?.kind === 'rate_limit') return fail(429, `Too Many Requests: retry after ${fault.retryAfter}`, { retry_after: fault.retryAfter });
    if (fault?.kind === 'blocked') return fail(403, 'Forbidden: bot was blocked by the user');
    if (fault?.kind === 'server_error') return fail(500, 'Internal Server Error');
    // Telegram's entity parser has refused texts other parsers accept; a client must cope.
    if (fault?.kind === 'bad_entities' && params.parse_mode) {
      return fail(400, "Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 0");
    }

    const chatId = params.chat_id === undefined || params.chat_id === null ? '' : String(params.chat_id);
    if (!chatId) return fail(400, 'Bad Request: chat_id is empty');
    if (fault?.kind === 'chat_not_found') return fail(400, 'Bad Request: chat not found');
    const text = typeof params.text === 'string' ? params.text : '';
    const parseMode = typeof params.parse_mode === 'string' && params.parse_mode ? params.parse_mode : null;
    if (parseMode && !['html', 'markdown', 'markdownv2'].includes(parseMode.toLowerCase())) {
      return fail(400, `Bad Request: unsupported parse_mode`);
    }
    let visible = text;
    if (parseMode?.toLowerCase() === 'html') {
      const parsed = parseTelegramHtml(text);
      if (!parsed.ok) return fail(400, parsed.error);
      visible = parsed.visible;
    }
    if (!visible.trim()) return fail(400, 'Bad Request: message text is empty');
    if (visible.length > TELEGRAM_TEXT_LIMIT) return fail(400, 'Bad Request: message is too long');

    const message: ReceivedMessage = { messageId: this.nextMessageId++, chatId, text, visible, parseMode, date: Math.floor(Date.now() / 1000) };
    this.messages.push(message);
    const numericChat = Number(chatId);
    return reply(200, {
      ok: true,
      result: {
        message_id: message.messageId,
        from: BOT,
        chat: Number.isSafeInteger(numericChat)
          ? { id: numericChat, first_name: 'Operator', type: numericChat < 0 ? 'group' : 'private' }
          : { id: -1000000000001, title: chatId, type: 'channel' },
        date: message.date,
        text: visible,
      },
    });
  }

  private inboxPage(): string {
    const items = [...this.messages]
      .reverse()
      .map(
        (m) => `<li><div class="meta">#${m.messageId} · chat ${escapeHtml(m.chatId)} · ${new Date(m.date * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC${m.parseMode ? ` · ${escapeHtml(m.parseMode)}` : ''}</div><pre>${escapeHtml(m.visible)}</pre></li>`,
      )
      .join('\n');
    return `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Telegram — входящие оператора (sandbox)</title>
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;background:#e7ebf0}
h1{font-size:1.2rem}ul{list-style:none;padding:0}li{background:#fff;border-radius:.8rem;padding:.6rem .9rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}
.meta{color:#708499;font-size:.8rem}pre{white-space:pre-wrap;font:inherit;margin:.3rem 0 0}</style></head>
<body><h1>Beem Alerts — сообщения оператору</h1>
<p class="meta">Песочница Telegram Bot API: здесь видно, что бот отправил бы в чат. Новые сверху, страница обновляется сама.</p>
${items ? `<ul>${items}</ul>` : '<p>Сообщений пока нет.</p>'}
</body></html>`;
  }
}
