import { ApiError } from './api.ts';
import type { Translator } from './translator.ts';

/**
 * The controls of a running generation (src/components/app/WaitControls.astro): cancel while
 * the status says it can still work (`cancellable`: nothing has gone to the video model; the
 * button goes when a streamed or polled status says otherwise, or when a cancel is refused) and
 * an opt-in browser notification for when it is ready. `signalReady` is what the page calls
 * when the followed video is ready: in a background tab the title changes and, if the
 * seller allowed it, a notification «Ролик готов» appears.
 */

interface LiveView {
  id: string;
  status: string;
  /** The server's word that a cancel would still work (nothing has gone to MiniMax yet). */
  cancellable?: boolean;
}

export interface WaitControlsOptions<T extends LiveView> {
  tr: Pick<Translator, 't'>;
  /** POSTs the cancel and answers the new status view (errors as ApiError). */
  cancel(id: string): Promise<T>;
  /** The page shows the answer (failed, refunded) as it shows any status. */
  onCanceled(view: T): void;
}

export interface WaitControls<T> {
  /** Redraws for the generation shown now. */
  show(view: T | null): void;
}

const $ = (id: string) => document.getElementById(id) as HTMLElement;

/** Notifications exist here and the seller has not decided yet. */
const canAskToNotify = () => typeof Notification === 'function' && Notification.permission === 'default';

export function setupWaitControls<T extends LiveView>(options: WaitControlsOptions<T>): WaitControls<T> {
  const { t } = options.tr;
  const box = $('wait-controls');
  const cancelBox = $('wait-cancel-box');
  const cancelButton = $('wait-cancel') as HTMLButtonElement;
  const cancelError = $('wait-cancel-error');
  const notifyButton = $('wait-notify') as HTMLButtonElement;
  const notifyState = $('wait-notify-state');
  let shown: T | null = null;
  /** A generation the server said has reached the video model: no cancel button for it again. */
  let tooLateId: string | null = null;

  cancelButton.addEventListener('click', async () => {
    if (!shown) return;
    const id = shown.id;
    cancelButton.disabled = true;
    cancelButton.textContent = t('ui.wait.canceling');
    cancelError.hidden = true;
    try {
      options.onCanceled(await options.cancel(id));
    } catch (error) {
      cancelError.hidden = false;
      cancelError.textContent = error instanceof Error ? error.message : String(error);
      if (error instanceof ApiError && error.code === 'GENERATION_AT_MINIMAX') {
        tooLateId = id;
        cancelBox.hidden = true;
      }
    } finally {
      cancelButton.disabled = false;
      cancelButton.textContent = t('ui.wait.cancel');
    }
  });

  notifyButton.addEventListener('click', async () => {
    const answer = await Notification.requestPermission();
    notifyButton.hidden = true;
    notifyState.hidden = false;
    notifyState.textContent = t(answer === 'granted' ? 'ui.wait.notifyOn' : 'ui.wait.notifyBlocked');
  });

  return {
    show(view) {
      const live = view !== null && (view.status === 'queued' || view.status === 'processing');
      if (view?.id !== shown?.id) cancelError.hidden = true;
      shown = live ? view : null;
      box.hidden = !live;
      cancelBox.hidden = !(live && view.cancellable === true && view.id !== tooLateId);
      notifyButton.hidden = !(live && canAskToNotify());
    },
  };
}

export interface ReadySignalOptions {
  tr: Pick<Translator, 't'>;
  /** Sets the tab title (the page adds its own name after it). */
  setTitle(text: string): void;
  /** The title once the seller is back on the tab. */
  visibleTitle: string;
  generationId: string;
}

/** The followed video is ready: say so in a background tab (title, and a notification if allowed). */
export function signalReady(options: ReadySignalOptions): void {
  if (document.visibilityState !== 'hidden') return;
  const { t } = options.tr;
  options.setTitle(t('ui.wait.readyTitle'));
  const back = () => {
    if (document.visibilityState === 'hidden') return;
    document.removeEventListener('visibilitychange', back);
    options.setTitle(options.visibleTitle);
  };
  document.addEventListener('visibilitychange', back);
  if (typeof Notification === 'function' && Notification.permission === 'granted') {
    try {
      const notice = new Notification(t('ui.wait.readyNotice'), { body: t('ui.wait.readyNoticeBody'), tag: `beem-ready-${options.generationId}` });
      notice.onclick = () => {
        window.focus();
        notice.close();
      };
    } catch {
      // Some mobile browsers allow notifications only from a service worker: the title still says it.
    }
  }
}
