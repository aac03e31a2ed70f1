import { z } from 'zod';
import { FaultQueue, escapeHtml, readFormOrJson, sendHtml, sendJson, sleep, type Emulator, type SandboxRequest } from '../core.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import { detectTextEntities, parseTelegramHtml, type MessageEntity } from './entities.ts';

/**
 * The Telegram Bot API under `/telegram` (reference/telegram-bot-api.md): `bot<token>/
 * sendMessage`, `getChat` and `getMe` with the real `{ok, result}` / `{ok:false, error_code,
 * description, parameters}` shapes, parameters from the query string and the body (JSON or
 * form), and `GET /telegram/inbox`, a page listing the messages received (newest first,
 * refreshing itself) — the operator's chat in the sandbox.
 *
 * Only chats that exist answer: the configured operator chat (SANDBOX_CREDENTIALS) and any a
 * test registers (`POST /_sandbox/telegram/faults {action: "register_chat", chat: {id, type,
 * title?, username?}}`); any other `chat_id` (0, "not-a-chat", "@no_such_channel",
 * -100123) is `400 Bad Request: chat not found`, as the real API answers.
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

/** A chat as getChat answers it (ChatFullInfo, the fields a bot alert chat has). */
export interface TelegramChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
  first_name?: string;
}

const chatSchema = z.object({
  id: z.number().int().refine((n) => n !== 0 && Number.isSafeInteger(n), 'a non-zero chat id'),
  type: z.enum(['private', 'group', 'supergroup', 'channel']),
  title: z.string().min(1).optional(),
  username: z.string().regex(/^[A-Za-z]\w{3,31}$/).optional(),
  first_name: z.string().min(1).optional(),
});
const registerSchema = z.object({ action: z.literal('register_chat'), chat: chatSchema });

/** The operator's private chat with the bot, which the default TELEGRAM_CHAT_ID names. */
export const OPERATOR_CHAT: TelegramChat = { id: Number(SANDBOX_CREDENTIALS.telegramChatId), type: 'private', first_name: 'Operator' };

export interface ReceivedMessage {
  messageId: number;
  chatId: string;
  text: string;
  /** The text as the chat shows it (markup parsed). */
  visible: string;
  entities: MessageEntity[];
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
  private chats = new Map<number, TelegramChat>([[OPERATOR_CHAT.id, OPERATOR_CHAT]]);

  constructor(private readonly tokens: string[] = [SANDBOX_CREDENTIALS.telegramBotToken]) {}

  state() {
    return { chats: [...this.chats.values()], messages: this.messages, calls: this.calls, pendingFaults: this.faults.pending() };
  }

  injectFault(body: unknown): void {
    const register = registerSchema.safeParse(body);
    if (register.success) {
      this.registerChat(register.data.chat);
      return;
    }
    const fault = faultSchema.parse(body);
    this.faults.add(fault, fault.count);
  }

  /** A chat the bot is a member of from now on (a group, a channel, another person). */
  registerChat(chat: TelegramChat): void {
    this.chats.set(chat.id, { ...chat });
  }

  reset(): void {
    this.messages = [];
    this.calls = [];
    this.faults.clear();
    this.nextMessageId = 1;
    this.chats = new Map([[OPERATOR_CHAT.id, OPERATOR_CHAT]]);
  }

  /** `chat_id` as the API takes it: a number, a numeric string or "@username" of a channel or group. */
  private findChat(raw: unknown): TelegramChat | null {
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (text.startsWith('@')) {
      const name = text.slice(1).toLowerCase();
      return [...this.chats.values()].find((c) => c.username?.toLowerCase() === name && c.type !== 'private') ?? null;
    }
    if (!/^-?\d{1,16}$/.test(text)) return null;
    return this.chats.get(Number(text)) ?? null;
  }

  async handle({ req, res, path, method, url }: SandboxRequest): Promise<boolean> {
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

    // Parameters may come in the query string, the body, or both (reference §1).
    const body = await readFormOrJson(req).catch(() => null);
    if (!this.tokens.includes(token ?? '')) return fail(401, 'Unauthorized');
    if (body === null) return fail(400, "Bad Request: can't parse JSON object");
    const params: Record<string, unknown> = { ...Object.fromEntries(url.searchParams), ...body };

    if (apiMethod === 'getme') return reply(200, { ok: true, result: { ...BOT, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
    if (apiMethod === 'getchat') {
      if (params.chat_id === undefined || params.chat_id === '') return fail(400, 'Bad Request: chat_id is empty');
      const chat = this.findChat(params.chat_id);
      return chat ? reply(200, { ok: true, result: { ...chat, accent_color_id: 0, max_reaction_count: 11 } }) : fail(400, 'Bad Request: chat not found');
    }
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
    const chat = fault?.kind === 'chat_not_found' ? null : this.findChat(params.chat_id);
    if (!chat) return fail(400, 'Bad Request: chat not found');
    const text = typeof params.text === 'string' ? params.text : '';
    const parseMode = typeof params.parse_mode === 'string' && params.parse_mode ? params.parse_mode : null;
    if (parseMode && !['html', 'markdown', 'markdownv2'].includes(parseMode.toLowerCase())) {
      return fail(400, `Bad Request: unsupported parse_mode`);
    }
    let visible = text;
    let markup: MessageEntity[] = [];
    if (parseMode?.toLowerCase() === 'html') {
      const parsed = parseTelegramHtml(text);
      if (!parsed.ok) return fail(400, parsed.error);
      visible = parsed.visible;
      markup = parsed.entities;
    } else if (params.entities !== undefined) {
      const given = explicitEntities(params.entities, visible.length);
      if (typeof given === 'string') return fail(400, given);
      markup = given;
    }
    if (!visible.trim()) return fail(400, 'Bad Request: message text is empty');
    if (visible.length > TELEGRAM_TEXT_LIMIT) return fail(400, 'Bad Request: message is too long');

    const entities = detectTextEntities(visible, markup);
    const message: ReceivedMessage = {
      messageId: this.nextMessageId++,
      chatId: String(chat.id),
      text,
      visible,
      entities,
      parseMode,
      date: Math.floor(Date.now() / 1000),
    };
    this.messages.push(message);
    return reply(200, {
      ok: true,
      result: {
        message_id: message.messageId,
        from: BOT,
        chat,
        date: message.date,
        text: visible,
        ...(entities.length > 0 ? { entities } : {}),
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

/** `entities` sent instead of `parse_mode` (an array, or its JSON in a form or query string). */
function explicitEntities(raw: unknown, textLength: number): MessageEntity[] | string {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return "Bad Request: can't parse entities JSON object";
    }
  }
  const parsed = z
    .array(z.looseObject({ type: z.string().min(1), offset: z.number().int().min(0), length: z.number().int().min(1) }))
    .safeParse(value);
  if (!parsed.success) return "Bad Request: can't parse entities JSON object";
  if (parsed.data.some((e) => e.offset + e.length > textLength)) return "Bad Request: can't parse entities: entity beyond the end of the text";
  return parsed.data as MessageEntity[];
}
