import { z } from 'zod';

/**
 * Telegram Bot API `sendMessage` and `getChat` (reference/telegram-bot-api.md). The token is
 * part of the URL, so neither the URL nor the token is ever logged or put in an error message.
 */

export interface TelegramClientOptions {
  apiBase: string;
  botToken: string;
  timeoutMs: number;
}

export interface SendMessageOptions {
  chatId: string;
  text: string;
  parseMode?: 'HTML';
}

const messageSchema = z.looseObject({ message_id: z.number() });
const chatSchema = z.looseObject({ id: z.number(), type: z.string(), title: z.string().optional(), username: z.string().optional(), first_name: z.string().optional() });

/** The chat alerts go to, as Telegram knows it. */
export interface TelegramChat {
  id: number;
  type: string;
  /** Title of a group or channel, or the person's name in a private chat. */
  title: string | null;
}
const errorSchema = z.object({
  ok: z.literal(false),
  error_code: z.number(),
  description: z.string(),
  parameters: z.object({ retry_after: z.number().optional() }).loose().optional(),
});

const TELEGRAM_ERROR = Symbol.for('beem.TelegramError');

export class TelegramError extends Error {
  readonly [TELEGRAM_ERROR] = true;
  constructor(
    message: string,
    /** HTTP status or Bot API `error_code`; null for network failures and timeouts. */
    readonly status: number | null,
    /** Seconds Telegram asks us to wait (flood control), when it says so. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'TelegramError';
  }

  get cannotParseEntities(): boolean {
    return this.status === 400 && /can't parse entities/i.test(this.message);
  }

  /** `chat_id` names no chat this bot can see (a wrong TELEGRAM_CHAT_ID). */
  get chatNotFound(): boolean {
    return this.status === 400 && /chat not found/i.test(this.message);
  }
}

export function isTelegramError(err: unknown): err is TelegramError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[TELEGRAM_ERROR] === true;
}

export interface TelegramClient {
  sendMessage(options: SendMessageOptions): Promise<{ messageId: number }>;
  /** Whether `chatId` is a chat the bot can write to; throws a TelegramError when not. */
  getChat(chatId: string): Promise<TelegramChat>;
}

export function createTelegramClient(options: TelegramClientOptions): TelegramClient {
  const base = `${options.apiBase.replace(/\/$/, '')}/bot${options.botToken}`;

  /** One Bot API call: the `result` on `ok: true`, a TelegramError otherwise. */
  async function call<T>(method: string, params: Record<string, unknown>, result: z.ZodType<T>): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      // fetch's message can carry the URL (and so the token): keep only the cause's kind.
      throw new TelegramError(timedOut ? `timeout after ${options.timeoutMs} ms` : 'network error', null);
    }
    const body: unknown = await response.json().catch(() => null);
    const ok = z.object({ ok: z.literal(true), result }).safeParse(body);
    if (response.ok && ok.success) return ok.data.result as T;
    const error = errorSchema.safeParse(body);
    if (error.success) {
      const retryAfter =
        error.data.parameters?.retry_after ?? Number(/retry after (\d+)/i.exec(error.data.description)?.[1] ?? NaN);
      throw new TelegramError(
        `${error.data.error_code}: ${error.data.description}`,
        error.data.error_code,
        Number.isFinite(retryAfter) ? retryAfter : null,
      );
    }
    throw new TelegramError(`HTTP ${response.status}: unexpected answer`, response.status);
  }

  async function sendMessage(message: SendMessageOptions): Promise<{ messageId: number }> {
    const sent = await call(
      'sendMessage',
      {
        chat_id: message.chatId,
        text: message.text,
        ...(message.parseMode ? { parse_mode: message.parseMode } : {}),
        link_preview_options: { is_disabled: true },
      },
      messageSchema,
    );
    return { messageId: sent.message_id };
  }

  async function getChat(chatId: string): Promise<TelegramChat> {
    const chat = await call('getChat', { chat_id: chatId }, chatSchema);
    return { id: chat.id, type: chat.type, title: chat.title ?? chat.first_name ?? chat.username ?? null };
  }

  return { sendMessage, getChat };
}
