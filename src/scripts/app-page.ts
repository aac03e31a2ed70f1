import { api, announceBalance, ApiError } from './api.ts';
import { PROMPT_MAX, PROMPT_MIN, type Duration, type GenerationMode, type GenerationStatus, type GenerationStep } from '../lib/model.ts';
import {
  STAGES,
  fitDuration,
  generateBlocker,
  isLive,
  progressStage,
  promptLength,
  readCameraCommands,
  type Costs,
  type Stage,
} from './app-state.ts';
import type { Poller } from './poll-schedule.ts';
import { watchStatus } from './status-stream.ts';
import { setupWaitControls, signalReady } from './wait-controls.ts';
import { waitText } from './wait-text.ts';
import { pageTranslator } from './translator.ts';
import { startPromptPreview } from './prompt-preview.ts';
import { formatDateTime, formatElapsed, toMillis } from '../lib/ui/format.ts';
import { startFormatPicker } from './video-format.ts';
import { showInPlayer, showThumb } from './video-player.ts';
import { startExportMenu } from './video-exports.ts';

/**
 * The app page: pick a mode, upload a photo, describe the scene, choose a length, generate,
 * and watch the progress until the video plays. The generation shown in the panel is
 * remembered in localStorage, and a running one is found again from the history, so a
 * reload (or coming back tomorrow) picks up where the user left off. The form's draft is
 * kept per user in localStorage (it survives a new tab) until a generation starts or the
 * description is cleared.
 */

interface Boot {
  /** Keys the draft and the shown generation, so two accounts in one browser never mix. */
  userId: string;
  balance: number;
  costs: Costs;
  examples: Record<GenerationMode, string[]>;
  /** The user's current photo (their newest upload), if any. */
  upload: (Upload & { width: number; height: number }) | null;
  /** The status stream sends an event at least this often (STATUS_STREAM_HEARTBEAT_MS). */
  streamHeartbeatMs: number;
}

interface Upload {
  uploadId: string;
  previewUrl: string;
}

/** What /api/status answers (and what each /api/generations item looks like). */
interface Generation {
  id: string;
  status: GenerationStatus;
  step?: GenerationStep | null;
  mode: GenerationMode;
  duration: Duration;
  cost: number;
  createdAt: number;
  queuePosition?: number | null;
  etaMs?: number | null;
  videoUrl?: string | null;
  error?: string | null;
  refunded?: boolean;
  prompt?: string | null;
  promptFinal?: string | null;
  cameraCommands?: unknown;
  templateName?: string | null;
  /** Time since creation as the server counts it (no clock skew between us and the server). */
  elapsedMs?: number;
  downloadUrl?: string | null;
  /** The shape chosen, the video's own size and its poster (issue 15). */
  format?: string;
  width?: number | null;
  height?: number | null;
  posterUrl?: string | null;
  /** A cancel would still work: nothing has gone to the video model (issue 16 §5). */
  cancellable?: boolean;
  /** Set when the retention sweep deleted the video: the sentence to show instead of a player. */
  expiredMessage?: string | null;
}

interface GenerateAnswer {
  generationId: string;
  balanceAfter: number;
  status: GenerationStatus;
}

interface HistoryPage {
  items: Generation[];
  nextCursor: string | null;
}

const SHOWN_KEY = 'beem.shownGeneration';
/** The form as the user left it, so a reload or a new tab does not cost them their text. */
const DRAFT_KEY = 'beem.draft';
const HISTORY_PAGE = 9;
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export function startAppPage(): void {
  const tr = pageTranslator();
  const { t, tn } = tr;
  const boot = JSON.parse($('app-boot').textContent ?? '{}') as Boot;
  const shownKey = `${SHOWN_KEY}.${boot.userId}`;
  const draftKey = `${DRAFT_KEY}.${boot.userId}`;
  const baseTitle = document.title;
  const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const request = <T>(path: string, init: { json?: unknown; body?: FormData } = {}) =>
    api<T>(path, { ...init, fallbackMessage: t('errors.INTERNAL'), networkMessage: t('ui.app.networkError') });
  const isTransient = (error: unknown) => error instanceof ApiError && (error.isNetwork || error.status >= 500);

  const form = $<HTMLFormElement>('generate-form');
  const promptInput = $<HTMLTextAreaElement>('prompt');
  const state = {
    balance: boot.balance,
    upload: null as Upload | null,
    uploading: false,
    submitting: false,
    running: false,
  };

  const mode = (): GenerationMode => (form.elements.namedItem('mode') as RadioNodeList).value as GenerationMode;
  const formats = startFormatPicker({ form, tr, uploadId: boot.upload?.uploadId ?? null, mode: mode() });
  const exportMenu = startExportMenu(tr);
  const duration = (): Duration => Number((form.elements.namedItem('duration') as RadioNodeList).value) as Duration;
  const cost = () => boot.costs[mode()][duration()];
  const preview = startPromptPreview({ form, promptInput, tr, request, read: () => ({ mode: mode(), prompt: promptInput.value.trim(), duration: duration() }) });

  function setBalance(balance: number): void {
    state.balance = balance;
    announceBalance(balance);
    fitDurationToBalance();
    refreshForm();
  }

  /** A 10-second choice the balance no longer covers becomes 6 seconds, and the form says so. */
  function fitDurationToBalance(): void {
    const { duration: fitted, switched } = fitDuration(duration(), boot.costs[mode()], state.balance);
    if (switched) {
      const input = form.querySelector<HTMLInputElement>(`input[name="duration"][value="${fitted}"]`);
      if (input) input.checked = true;
      saveDraft();
    }
    const note = $('duration-note');
    note.hidden = !switched;
    note.textContent = switched ? t('ui.app.durationSwitched') : '';
  }

  /** The tab says what is happening while the user looks elsewhere; null puts the page's own title back. */
  function setTabTitle(text: string | null): void {
    document.title = text ? `${text} · ${baseTitle}` : baseTitle;
  }

  /** Scrolls a panel into view when any of it is off screen (instantly when the user asks for less motion). */
  function bringIntoView(panel: HTMLElement): void {
    const rect = panel.getBoundingClientRect();
    const fits = rect.height <= window.innerHeight;
    if (rect.top >= 0 && (fits ? rect.bottom <= window.innerHeight : rect.top < window.innerHeight / 3)) return;
    panel.scrollIntoView({ behavior: reducedMotion() ? 'auto' : 'smooth', block: 'start' });
  }

  async function reloadBalance(): Promise<void> {
    try {
      const me = await request<{ balance: number }>('/api/me');
      setBalance(me.balance);
    } catch {
      // The header keeps the last known balance; the next page load shows the real one.
    }
  }

  // ---- Form: mode, prompt, duration, the Generate button ------------------------------

  function renderExamples(): void {
    const list = $('prompt-examples');
    list.replaceChildren(
      ...boot.examples[mode()].map((text) => {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'btn-compact text-left';
        button.textContent = text;
        button.addEventListener('click', () => {
          promptInput.value = text;
          promptInput.focus();
          saveDraft();
          refreshForm();
        });
        item.append(button);
        return item;
      }),
    );
    promptInput.placeholder = t(`ui.app.promptPlaceholder.${mode()}`);
    $('prompt-hint').textContent = t(`ui.app.promptHint.${mode()}`);
  }

  function refreshForm(): void {
    const length = promptLength(promptInput.value);
    const counter = $('prompt-counter');
    counter.textContent = `${length} / ${PROMPT_MAX}`;
    counter.classList.toggle('text-red-800', length > PROMPT_MAX);
    counter.classList.toggle('font-semibold', length > PROMPT_MAX);

    for (const node of document.querySelectorAll<HTMLElement>('[data-duration-cost]')) {
      const seconds = Number(node.dataset.durationCost) as Duration;
      const price = boot.costs[mode()][seconds];
      const after = state.balance - price;
      node.textContent =
        after >= 0
          ? t('ui.app.durationCost', { cost: tn('ui.credits', price), after: tn('ui.credits', after) })
          : t('ui.app.durationShort', { cost: tn('ui.credits', price) });
    }

    const blocker = generateBlocker({
      hasImage: state.upload !== null,
      uploading: state.uploading,
      promptLength: length,
      cost: cost(),
      balance: state.balance,
      running: state.running,
      submitting: state.submitting,
    });
    const button = $<HTMLButtonElement>('generate-button');
    button.disabled = blocker !== null;
    $('generate-spinner').hidden = !state.submitting;
    const text = !blocker
      ? t('ui.app.ready', { cost: tn('ui.credits', cost()), after: tn('ui.credits', state.balance - cost()) })
      : blocker.key === 'balance'
        ? t('ui.app.blocker.balance', { cost: tn('ui.credits', blocker.cost), balance: tn('ui.credits', blocker.balance) })
        : t(`ui.app.blocker.${blocker.key}`, { min: PROMPT_MIN, max: PROMPT_MAX });
    const withLink = blocker?.key === 'balance';
    const reason = $('generate-reason');
    // Rebuilt only when it says something else: leaving the description re-runs this between
    // the mouse-down and the mouse-up of a click on «Пополнить баланс», and a new link there
    // would swallow the click.
    const said = `${withLink}:${text}`;
    if (reason.dataset.said === said) return;
    reason.dataset.said = said;
    if (withLink) reason.replaceChildren(`${text} `, billingLink());
    else reason.textContent = text;
  }

  function billingLink(): HTMLAnchorElement {
    const link = document.createElement('a');
    link.href = '/billing';
    link.className = 'link';
    link.textContent = t('ui.app.topUp');
    return link;
  }

  function saveDraft(): void {
    // An emptied description is the seller clearing the draft.
    if (promptInput.value.trim() === '') localStorage.removeItem(draftKey);
    else localStorage.setItem(draftKey, JSON.stringify({ mode: mode(), duration: duration(), prompt: promptInput.value }));
  }

  function restoreDraft(): void {
    let draft: { mode?: string; duration?: number; prompt?: string } = {};
    try {
      draft = JSON.parse(localStorage.getItem(draftKey) ?? '{}') as typeof draft;
    } catch {
      return;
    }
    const pick = (name: string, value: unknown) => {
      const input = form.querySelector<HTMLInputElement>(`input[name="${name}"][value="${String(value)}"]`);
      if (input) input.checked = true;
    };
    pick('mode', draft.mode);
    pick('duration', draft.duration);
    if (typeof draft.prompt === 'string') promptInput.value = draft.prompt;
  }

  form.addEventListener('change', (event) => {
    const name = (event.target as HTMLInputElement).name;
    if (name === 'mode') {
      renderExamples();
      formats.modeChanged(mode());
    }
    if (name === 'duration') $('duration-note').hidden = true;
    saveDraft();
    refreshForm();
  });
  promptInput.addEventListener('input', () => {
    $('prompt-error').hidden = true;
    saveDraft();
    refreshForm();
  });

  // ---- Photo: picker, camera, drag and drop -------------------------------------------

  function showPhoto(url: string | null): void {
    const preview = $<HTMLImageElement>('photo-preview');
    preview.hidden = url === null;
    // An <svg> has no `hidden` property (it is not an HTMLElement): set the attribute.
    $('photo-placeholder').toggleAttribute('hidden', url !== null);
    if (url) preview.src = url;
    else preview.removeAttribute('src');
  }

  function photoError(message: string | null): void {
    const node = $('photo-error');
    node.hidden = message === null;
    node.textContent = message ?? '';
  }

  async function uploadPhoto(file: File): Promise<void> {
    photoError(null);
    if (!file.type.startsWith('image/')) return photoError(t('ui.app.photoNotImage'));
    if (file.size > MAX_UPLOAD_BYTES) return photoError(t('ui.app.photoTooBig'));

    const previous = state.upload;
    const localUrl = URL.createObjectURL(file);
    showPhoto(localUrl);
    state.uploading = true;
    $('photo-uploading').hidden = false;
    $('photo-status').textContent = t('ui.app.photoUploading');
    refreshForm();
    try {
      const body = new FormData();
      body.append('image', file);
      const answer = await request<Upload & { width: number; height: number }>('/api/upload-image', { body });
      state.upload = { uploadId: answer.uploadId, previewUrl: answer.previewUrl };
      showPhoto(answer.previewUrl);
      formats.photoChanged(answer.uploadId);
      $('photo-status').textContent = t('ui.app.photoReady', { width: answer.width, height: answer.height });
    } catch (error) {
      state.upload = previous;
      showPhoto(previous?.previewUrl ?? null);
      $('photo-status').textContent = t(previous ? 'ui.app.photoKept' : 'ui.app.photoEmpty');
      photoError((error as Error).message);
    } finally {
      URL.revokeObjectURL(localUrl);
      state.uploading = false;
      $('photo-uploading').hidden = true;
      refreshForm();
    }
  }

  for (const id of ['photo-input', 'photo-camera']) {
    const input = $<HTMLInputElement>(id);
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      input.value = '';
      if (file) void uploadPhoto(file);
    });
  }
  const dropzone = $('dropzone');
  dropzone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropzone.dataset.dragging = '';
  });
  dropzone.addEventListener('dragleave', () => delete dropzone.dataset.dragging);
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    delete dropzone.dataset.dragging;
    const file = event.dataTransfer?.files[0];
    if (file) void uploadPhoto(file);
  });

  // ---- Progress, result ---------------------------------------------------------------

  let poller: Poller | null = null;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let lastAnnounced = '';
  /** The generation the user started or came back to while it ran: its progress and result are brought into view. */
  let followedId: string | null = null;

  function showPanels(which: 'placeholder' | 'progress' | 'result' | 'progress+result'): void {
    $('placeholder-panel').hidden = which !== 'placeholder';
    $('progress-panel').hidden = !which.startsWith('progress');
    $('result-panel').hidden = !which.endsWith('result');
  }

  function setStage(stage: Stage, detail: string): void {
    const index = STAGES.indexOf(stage);
    for (const item of document.querySelectorAll<HTMLElement>('#progress-steps [data-stage]')) {
      const own = STAGES.indexOf(item.dataset.stage as Stage);
      item.dataset.state = own < index || stage === 'done' ? 'done' : own === index ? 'active' : 'todo';
      const detailNode = item.querySelector<HTMLElement>('[data-stage-detail]');
      if (detailNode) detailNode.textContent = own === index ? detail : '';
    }
    const live = `${t(`ui.stage.${stage}`)}`;
    if (live !== lastAnnounced) {
      $('progress-live').textContent = live;
      lastAnnounced = live;
      if (stage !== 'done') setTabTitle(`${live}…`);
    }
  }

  function resetProgress(): void {
    $('progress-offline').hidden = true;
    $('progress-failed').hidden = true;
    $('progress-error').hidden = true;
    $('progress-refunded').hidden = true;
    clearInterval(ticker);
  }

  function stageDetail(generation: Generation, stage: Stage): string {
    switch (stage) {
      case 'prepare':
        return t('ui.stage.prepare.detail');
      case 'queue':
        return generation.queuePosition && generation.queuePosition > 1
          ? t('ui.stage.queue.position', { position: generation.queuePosition })
          : t('ui.stage.queue.next');
      case 'generate':
        return t('ui.stage.generate.detail', { elapsed: formatElapsed(elapsedSeconds(generation)) });
      case 'save':
        return t('ui.stage.save.detail');
      default:
        return '';
    }
  }

  /** When the answer arrived: the elapsed time keeps counting from the server's figure. */
  let answeredAt = Date.now();

  function elapsedSeconds(generation: Generation): number {
    if (typeof generation.elapsedMs === 'number') return (generation.elapsedMs + Date.now() - answeredAt) / 1000;
    return (Date.now() - toMillis(generation.createdAt)) / 1000;
  }

  /** The stage's own line, then the queue ahead and the time left (wait-text.ts). */
  const liveDetail = (generation: Generation, stage: Stage) =>
    [stageDetail(generation, stage), waitText(tr, generation, { sinceAnswerMs: Date.now() - answeredAt, withQueue: stage === 'prepare' })]
      .filter(Boolean)
      .join(' ');

  function renderLive(generation: Generation): void {
    answeredAt = Date.now();
    const stage = progressStage(generation.status, generation.step);
    setStage(stage, liveDetail(generation, stage));
    clearInterval(ticker);
    if (stage === 'generate' || stage === 'queue') {
      // The elapsed time moves every second even though we ask the server less often.
      ticker = setInterval(() => setStage(stage, liveDetail(generation, stage)), 1000);
    }
  }

  function renderResult(generation: Generation): void {
    const video = $<HTMLVideoElement>('result-video');
    const expired = generation.expiredMessage ?? null;
    // A deleted video gets its sentence instead of a player, a download or exports that would only fail.
    $('result-title').textContent = t(expired === null ? 'ui.app.resultTitle' : 'ui.video.expiredTitle');
    $('result-expired').hidden = expired === null;
    $('result-expired').textContent = expired ?? '';
    video.hidden = expired !== null;
    $('result-download').hidden = expired !== null;
    const menu = document.getElementById('export-menu');
    if (menu) menu.hidden = expired !== null;
    if (expired !== null) {
      video.removeAttribute('src');
      video.load();
    } else {
      const url = generation.videoUrl ?? `/api/video/${encodeURIComponent(generation.id)}`;
      if (video.getAttribute('src') !== url) {
        showInPlayer(video, generation);
        video.src = url;
      }
      exportMenu.show(generation.id);
      $<HTMLAnchorElement>('result-download').href = downloadUrl(generation);
    }

    const template = $('result-template');
    template.hidden = !(generation.mode === 'template' && generation.templateName);
    template.querySelector('[data-value]')!.textContent = generation.templateName ?? '';

    const prompt = $('result-prompt');
    prompt.hidden = !generation.promptFinal;
    prompt.querySelector('[data-value]')!.textContent = generation.promptFinal ?? '';

    const commands = readCameraCommands(generation.cameraCommands);
    const camera = $('result-camera');
    camera.hidden = generation.mode !== 'prompt' || commands.length === 0;
    camera.querySelector('[data-value]')!.replaceChildren(
      ...commands.map((command) => {
        const chip = document.createElement('li');
        chip.className = 'rounded-full bg-slate-100 px-2.5 py-0.5 font-mono text-xs text-slate-800';
        chip.lang = 'en';
        chip.textContent = command;
        return chip;
      }),
    );
  }

  function renderFailure(generation: Generation): void {
    clearInterval(ticker);
    setTabTitle(t('ui.app.failedTitle'));
    for (const item of document.querySelectorAll<HTMLElement>('#progress-steps [data-stage]')) {
      if (item.dataset.state === 'active') item.dataset.state = 'todo';
    }
    $('progress-failed').hidden = false;
    $('progress-failed-reason').textContent = generation.error || t('ui.app.failedGeneric');
    const refunded = $('progress-refunded');
    refunded.hidden = !generation.refunded;
    refunded.textContent = t('ui.app.refunded', { cost: tn('ui.credits', generation.cost) });
  }

  /** Shows one generation in the panels and, while it runs, keeps asking for its status. */
  function track(generation: Generation): void {
    poller?.stop();
    resetProgress();
    localStorage.setItem(shownKey, generation.id);
    state.running = isLive(generation.status);
    if (state.running) followedId = generation.id;
    refreshForm();
    show(generation);
    if (!state.running) return;

    poller = watchStatus<Generation>({
      streamUrl: `/api/status/stream?generationId=${encodeURIComponent(generation.id)}`,
      silenceMs: boot.streamHeartbeatMs * 2 + 5000,
      fetch: () => request<Generation>(`/api/status?generationId=${encodeURIComponent(generation.id)}`),
      isTransient,
      phaseOf: (answer) => `${answer.status}:${answer.step ?? ''}`,
      onAnswer: (answer) => {
        $('progress-offline').hidden = true;
        show(answer);
        if (isLive(answer.status)) {
          refreshHistoryItem(answer);
          return false;
        }
        state.running = false;
        refreshForm();
        void loadHistory();
        if (answer.status === 'failed' && answer.refunded) void reloadBalance();
        return true;
      },
      onNetworkError: () => {
        $('progress-offline').hidden = false;
      },
      onError: (error) => {
        clearInterval(ticker);
        $('progress-error').hidden = false;
        $('progress-error-text').textContent = (error as Error).message;
      },
    });
  }

  let lastShown: Generation | null = null;
  /** True while an older video plays in the result panel during a running generation. */
  let watchingOther = false;

  const waitControls = setupWaitControls<Generation>({
    tr,
    cancel: (id) => request<Generation>(`/api/generations/${encodeURIComponent(id)}/cancel`, { json: {} }),
    onCanceled: (view) => {
      track(view);
      void loadHistory();
      void reloadBalance();
    },
  });

  function show(generation: Generation): void {
    lastShown = generation;
    waitControls.show(generation);
    if (!isLive(generation.status)) watchingOther = false;
    const followed = generation.id === followedId;
    if (generation.status === 'success') {
      clearInterval(ticker);
      setStage('done', '');
      showPanels('result');
      renderResult(generation);
      if (followed) {
        followedId = null;
        setTabTitle(t('ui.app.resultTitle'));
        signalReady({ tr, setTitle: setTabTitle, visibleTitle: t('ui.app.resultTitle'), generationId: generation.id });
        bringIntoView($('result-panel'));
      }
    } else if (generation.status === 'failed') {
      showPanels('progress');
      renderFailure(generation);
      if (followed) {
        followedId = null;
        bringIntoView($('progress-panel'));
      }
    } else {
      // An older video the user chose to watch stays on screen beside the progress.
      showPanels(watchingOther ? 'progress+result' : 'progress');
      renderLive(generation);
    }
  }

  $('progress-retry').addEventListener('click', async () => {
    const id = localStorage.getItem(shownKey);
    if (!id) return;
    $('progress-error').hidden = true;
    try {
      track(await request<Generation>(`/api/status?generationId=${encodeURIComponent(id)}`));
    } catch (error) {
      $('progress-error').hidden = false;
      $('progress-error-text').textContent = (error as Error).message;
    }
  });

  // ---- Generate -----------------------------------------------------------------------

  function generateError(message: string | null, withBilling = false): void {
    const node = $('generate-error');
    node.hidden = message === null;
    node.replaceChildren(message ?? '');
    if (withBilling) node.append(' ', billingLink());
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if ($<HTMLButtonElement>('generate-button').disabled) return;
    generateError(null);
    $('prompt-error').hidden = true;
    state.submitting = true;
    refreshForm();
    resetProgress();
    showPanels('progress');
    setStage('prepare', t('ui.stage.prepare.detail'));
    // The panel is below the form on a phone and above the view on a desktop scrolled down
    // to the button: bring it into view so the progress is seen.
    bringIntoView($('progress-panel'));
    const chosen = { prompt: promptInput.value.trim(), duration: duration(), mode: mode(), ...formats.body() };
    try {
      // From the preview the seller saw, while it still matches the form (issue 16).
      const previewId = preview.previewIdFor(chosen);
      const answer = await request<GenerateAnswer>('/api/generate', { json: previewId ? { ...chosen, previewId } : chosen });
      state.submitting = false;
      // The draft has done its job; the text stays in the field for a variation.
      localStorage.removeItem(draftKey);
      setBalance(answer.balanceAfter);
      track({
        id: answer.generationId,
        status: answer.status,
        step: 'submit',
        mode: chosen.mode,
        duration: chosen.duration,
        cost: cost(),
        createdAt: Date.now(),
        prompt: chosen.prompt,
      });
      void loadHistory();
    } catch (error) {
      state.submitting = false;
      setTabTitle(null);
      // Put back whatever the panel showed before this attempt.
      if (lastShown) show(lastShown);
      else showPanels('placeholder');
      const apiError = error as ApiError;
      if (apiError.body?.field === 'prompt') {
        const node = $('prompt-error');
        node.hidden = false;
        node.textContent = apiError.message;
        promptInput.focus();
      } else {
        generateError(apiError.message, apiError.status === 402);
      }
      if (apiError.status === 402 && typeof apiError.body?.current === 'number') setBalance(apiError.body.current);
      refreshForm();
    }
  });

  // ---- History ------------------------------------------------------------------------

  let nextCursor: string | null = null;

  function downloadUrl(generation: Generation): string {
    return generation.downloadUrl ?? `/api/video/${encodeURIComponent(generation.id)}?download=1`;
  }

  const STATUS_STYLE: Record<GenerationStatus, string> = {
    queued: 'bg-amber-100 text-amber-900',
    processing: 'bg-brand-100 text-brand-900',
    success: 'bg-emerald-100 text-emerald-900',
    failed: 'bg-red-100 text-red-900',
  };

  /** What each history card shows, so a running one can be redrawn from a status answer. */
  const historyShown = new Map<string, Generation>();

  function historyItem(generation: Generation): HTMLElement {
    historyShown.set(generation.id, generation);
    const template = $<HTMLTemplateElement>('history-item');
    const item = (template.content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
    item.dataset.generationId = generation.id;
    // A running one is named by the same stage as the progress panel, from the same status.
    const stage = isLive(generation.status) ? progressStage(generation.status, generation.step) : null;
    const status = item.querySelector<HTMLElement>('[data-status]')!;
    const expired = generation.status === 'success' && Boolean(generation.expiredMessage);
    status.textContent = expired ? t('ui.video.expiredBadge') : stage ? t(`ui.stage.${stage}`) : t(`ui.history.status.${generation.status}`);
    status.className += ` ${expired ? 'bg-slate-100 text-slate-700' : (STATUS_STYLE[generation.status] ?? '')}`;
    item.querySelector('[data-meta]')!.textContent = [
      t(`ui.mode.${generation.mode}`),
      ...(generation.format && generation.format !== 'original' ? [generation.format] : []),
      t('ui.app.seconds', { count: generation.duration }),
      formatDateTime(generation.createdAt, tr.locale),
    ].join(' · ');
    item.querySelector('[data-prompt]')!.textContent = generation.prompt ?? '';

    const thumb = item.querySelector<HTMLImageElement>('[data-thumb]')!;
    const placeholder = item.querySelector<HTMLElement>('[data-thumb-placeholder]')!;
    const play = item.querySelector<HTMLButtonElement>('[data-action="play"]')!;
    const download = item.querySelector<HTMLAnchorElement>('[data-action="download"]')!;
    if (expired) {
      // The video is deleted; the photo it was made from is kept and stands in as the picture.
      showThumb(item.querySelector<HTMLElement>('[data-thumb-box]')!, thumb, generation);
      placeholder.hidden = true;
      const note = item.querySelector<HTMLElement>('[data-failure]')!;
      note.hidden = false;
      note.textContent = generation.expiredMessage ?? '';
    } else if (generation.status === 'success') {
      // The poster, at the video's own shape: history never loads the MP4s.
      showThumb(item.querySelector<HTMLElement>('[data-thumb-box]')!, thumb, generation);
      placeholder.hidden = true;
      play.hidden = false;
      download.hidden = false;
      download.href = downloadUrl(generation);
      play.addEventListener('click', () => {
        if (state.running) {
          // Keep following the running generation; just put this video in the player.
          watchingOther = true;
          renderResult(generation);
          $('result-panel').hidden = false;
          $('placeholder-panel').hidden = true;
        } else {
          track(generation);
        }
        $('result-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
        void $<HTMLVideoElement>('result-video').play().catch(() => undefined);
      });
    } else {
      placeholder.textContent = stage ? `${t(`ui.stage.${stage}`)}…` : t('ui.history.placeholder.failed');
    }
    if (generation.status === 'failed') {
      const failure = item.querySelector<HTMLElement>('[data-failure]')!;
      failure.hidden = false;
      failure.textContent = generation.refunded
        ? t('ui.history.failedRefunded', { cost: tn('ui.credits', generation.cost) })
        : (generation.error ?? t('ui.app.failedGeneric'));
    }
    item.querySelector('[data-action="again"]')!.addEventListener('click', () => reuseSettings(generation));
    return item;
  }

  /** Redraws a running generation's card from the status the progress panel just got. */
  function refreshHistoryItem(answer: Generation): void {
    const shown = historyShown.get(answer.id);
    const node = document.querySelector<HTMLElement>(`#history-list [data-generation-id="${CSS.escape(answer.id)}"]`);
    if (!shown || !node) return;
    const next = { ...shown, ...answer };
    if (next.status === shown.status && next.step === shown.step) return;
    node.replaceWith(historyItem(next));
  }

  function reuseSettings(generation: Generation): void {
    (form.querySelector(`input[name="mode"][value="${generation.mode}"]`) as HTMLInputElement | null)?.click();
    (form.querySelector(`input[name="duration"][value="${generation.duration}"]`) as HTMLInputElement | null)?.click();
    promptInput.value = generation.prompt ?? '';
    formats.select(generation.format ?? 'original');
    renderExamples();
    saveDraft();
    refreshForm();
    form.scrollIntoView({ behavior: 'smooth', block: 'start' });
    promptInput.focus({ preventScroll: true });
  }

  async function fetchHistory(cursor: string | null): Promise<HistoryPage> {
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
    if (cursor) query.set('cursor', cursor);
    return request<HistoryPage>(`/api/generations?${query}`);
  }

  async function loadHistory(append = false): Promise<Generation[]> {
    $('history-error').hidden = true;
    try {
      const page = await fetchHistory(append ? nextCursor : null);
      nextCursor = page.nextCursor;
      const list = $('history-list');
      const nodes = page.items.map(historyItem);
      if (append) list.append(...nodes);
      else list.replaceChildren(...nodes);
      $('history-empty').hidden = list.children.length > 0;
      $('history-more').hidden = nextCursor === null;
      return page.items;
    } catch (error) {
      $('history-error').hidden = false;
      $('history-error-text').textContent = (error as Error).message;
      return [];
    } finally {
      $('history-loading').hidden = true;
    }
  }

  $('history-more').addEventListener('click', () => void loadHistory(true));
  $('history-retry').addEventListener('click', () => void loadHistory());

  // ---- Start: find what the user was doing --------------------------------------------

  async function resume(): Promise<void> {
    const recent = await loadHistory();
    const running = recent.find((generation) => isLive(generation.status));
    if (running) return track(running);
    const shownId = localStorage.getItem(shownKey);
    if (!shownId) return;
    try {
      track(await request<Generation>(`/api/status?generationId=${encodeURIComponent(shownId)}`));
    } catch {
      // Gone (or not ours any more): start clean.
      localStorage.removeItem(shownKey);
    }
  }

  if (boot.upload) {
    state.upload = { uploadId: boot.upload.uploadId, previewUrl: boot.upload.previewUrl };
    showPhoto(boot.upload.previewUrl);
    $('photo-status').textContent = t('ui.app.photoCurrent', { width: boot.upload.width, height: boot.upload.height });
  }
  restoreDraft();
  formats.modeChanged(mode());
  renderExamples();
  fitDurationToBalance();
  refreshForm();
  void resume();
}
