import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { isTelegramError, type TelegramClient, type TelegramError } from '../providers/telegram/client.ts';

/**
 * Is TELEGRAM_CHAT_ID a chat the bot can write to? Asked with `getChat` at start and again
 * from the admin "test alert", so a wrong chat id or token is an operator error in the log
 * and on the admin alerts page from the first minute, not alerts silently lost later.
 * The check never throws: a Telegram that cannot be reached is reported as such.
 */

export type AlertChatState =
  /** The bot sees the chat. */
  | 'ok'
  /** Telegram is not configured (no token or chat id). */
  | 'disabled'
  /** `400 Bad Request: chat not found`: TELEGRAM_CHAT_ID is wrong, or the bot was never added to the chat. */
  | 'chat_not_found'
  /** `401 Unauthorized`: TELEGRAM_BOT_TOKEN is wrong. */
  | 'token_rejected'
  /** `403`, or another refusal: the bot was blocked or removed from the chat. */
  | 'refused'
  /** No answer (network, timeout, 5xx): says nothing about the settings. */
  | 'unreachable';

export interface AlertChatStatus {
  state: AlertChatState;
  chatId: string | null;
  /** The chat's title (or the person's name), when found. */
  chatTitle: string | null;
  /** Telegram's own words when it refused, e.g. `400: Bad Request: chat not found`. */
  detail: string | null;
  checkedAt: number;
}

/** States that mean the settings are wrong: alerts cannot arrive until someone fixes them. */
export const MISCONFIGURED_CHAT_STATES: ReadonlySet<AlertChatState> = new Set(['chat_not_found', 'token_rejected', 'refused']);

export interface AlertChatCheck {
  check(): Promise<AlertChatStatus>;
  /** The last check's outcome; null before the first one ends. */
  status(): AlertChatStatus | null;
  /**
   * Telegram refused an alert (the notifier tells): a refusal that says the settings are
   * wrong (the bot was removed from the chat since the check) replaces the last status.
   */
  noteRefusal(err: unknown): void;
}

export interface AlertChatCheckOptions {
  telegram: { client: TelegramClient; chatId: string } | null;
  log: Logger;
  clock: Clock;
}

export function createAlertChatCheck(options: AlertChatCheckOptions): AlertChatCheck {
  const log = options.log.child({ mod: 'alerts' });
  let last: AlertChatStatus | null = null;

  async function check(): Promise<AlertChatStatus> {
    const telegram = options.telegram;
    const done = (state: AlertChatState, fields: Partial<AlertChatStatus> = {}): AlertChatStatus => {
      last = { state, chatId: telegram?.chatId ?? null, chatTitle: null, detail: null, checkedAt: options.clock.now(), ...fields };
      return last;
    };
    if (!telegram) return done('disabled');
    try {
      const chat = await telegram.client.getChat(telegram.chatId);
      log.info({ chatId: telegram.chatId, chatType: chat.type }, 'operator alert chat found');
      return done('ok', { chatTitle: chat.title });
    } catch (err) {
      if (!isTelegramError(err)) {
        log.warn({ err }, 'operator alert chat could not be checked');
        return done('unreachable', { detail: err instanceof Error ? err.message : String(err) });
      }
      if (err.status === null || err.status === 429 || err.status >= 500) {
        log.warn({ chatId: telegram.chatId, telegram: err.message }, 'operator alert chat could not be checked: Telegram did not answer');
        return done('unreachable', { detail: err.message });
      }
      return refused(err, done);
    }
  }

  /** A refusal that means the settings are wrong: logged as an error that says what to fix. */
  function refused(err: TelegramError, done: (state: AlertChatState, fields?: Partial<AlertChatStatus>) => AlertChatStatus): AlertChatStatus {
    const chatId = options.telegram?.chatId ?? '';
    const state: AlertChatState = err.chatNotFound ? 'chat_not_found' : err.status === 401 ? 'token_rejected' : 'refused';
    const fix =
      state === 'token_rejected'
        ? 'check TELEGRAM_BOT_TOKEN'
        : 'check TELEGRAM_CHAT_ID and that the bot is a member of that chat (a person must write to the bot first)';
    log.error({ chatId, telegram: err.message }, `operator alerts cannot be delivered: Telegram answered "${err.message}" for TELEGRAM_CHAT_ID=${chatId}; ${fix}`);
    return done(state, { detail: err.message });
  }

  function noteRefusal(err: unknown): void {
    const telegram = options.telegram;
    // Only answers about the chat or the token; a text Telegram could not parse says nothing about them.
    if (!telegram || !isTelegramError(err) || !(err.chatNotFound || err.status === 401 || err.status === 403)) return;
    refused(err, (state, fields = {}) => {
      last = { state, chatId: telegram.chatId, chatTitle: null, detail: null, checkedAt: options.clock.now(), ...fields };
      return last;
    });
  }

  return { check, status: () => last, noteRefusal };
}
