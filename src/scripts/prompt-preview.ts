import type { ApiError } from './api.ts';
import type { Translator } from './translator.ts';
import type { Duration, GenerationMode } from '../lib/model.ts';
import type { CameraCommand } from '../lib/prompt/camera-commands.ts';
import { cameraHintKey, cameraNameKey } from '../lib/prompt/camera-menu.ts';
import type { TemplateView } from '../lib/preview/make-preview.ts';
import { addStep, addToStep, canAddStep, canAddToStep, moveStep, removeFromStep, type CameraMoves, type ChipEdit, type ChipRefusal } from './camera-chips.ts';

/**
 * «Посмотреть, что получится» on /app (issue 16, item 2): asks /api/prompt-preview, shows
 * the summary, the English prompt and the camera moves as chips (or the template and its
 * alternatives), sends every edit as a new preview, and marks the preview stale as soon as
 * the text, mode or length differs from what it was made for. The page generates with the
 * preview's id only while it is not stale.
 */

export interface PreviewInput {
  mode: GenerationMode;
  prompt: string;
  duration: Duration;
}

type Preview = { previewId: string; prompt: string; duration: Duration; summaryRu: string; source: 'model' | 'rules' } & (
  | { mode: 'prompt'; finalPrompt: string; cameraMoves: CameraMoves }
  | {
      mode: 'template';
      template: TemplateView | null;
      alternatives: TemplateView[];
      inputs: { photo: boolean; text: string[] } | null;
      promptMode: { cost: number } | null;
    }
);

export interface PromptPreviewOptions {
  form: HTMLFormElement;
  promptInput: HTMLTextAreaElement;
  read(): PreviewInput;
  request<T>(path: string, init: { json: unknown }): Promise<T>;
  tr: Translator;
}

export interface PromptPreview {
  /** The preview to generate from, or null when there is none or it no longer matches the form. */
  previewIdFor(input: PreviewInput): string | null;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const sameInput = (preview: Preview, input: PreviewInput) =>
  preview.mode === input.mode && preview.duration === input.duration && preview.prompt === input.prompt.trim();

export function startPromptPreview(options: PromptPreviewOptions): PromptPreview {
  const { tr, form } = options;
  const { t, tn } = tr;
  let current: Preview | null = null;
  let busy = false;
  const menu = $<HTMLTemplateElement>('camera-menu-options');

  function setBusy(value: boolean): void {
    busy = value;
    $('preview-spinner').hidden = !value;
    $<HTMLButtonElement>('preview-button').disabled = value;
    $('preview-panel').setAttribute('aria-busy', String(value));
  }

  function showError(message: string | null): void {
    const node = $('preview-error');
    node.hidden = message === null;
    node.textContent = message ?? '';
  }

  async function ask(body: unknown): Promise<void> {
    if (busy) return;
    setBusy(true);
    showError(null);
    try {
      render(await options.request<Preview>('/api/prompt-preview', { json: body }));
    } catch (error) {
      showError((error as ApiError).message);
    } finally {
      setBusy(false);
    }
  }

  function refreshStale(): void {
    if (!current) return;
    $('preview-stale').hidden = sameInput(current, options.read());
  }

  function chip(command: CameraCommand, step: number): HTMLElement {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn-compact gap-1';
    button.title = t(cameraHintKey(command));
    button.dataset.testid = 'camera-chip';
    button.dataset.command = command;
    button.setAttribute('aria-label', t('ui.preview.remove', { name: t(cameraNameKey(command)) }));
    button.append(t(cameraNameKey(command)), ' ×');
    button.addEventListener('click', () => edit(removeFromStep(movesOf(), step, command)));
    item.append(button);
    return item;
  }

  function movesOf(): CameraMoves {
    return current?.mode === 'prompt' ? current.cameraMoves : [];
  }

  function menuSelect(label: string, testid: string): HTMLSelectElement {
    const select = document.createElement('select');
    select.className = 'mt-2 block w-full max-w-full truncate rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm';
    select.dataset.testid = testid;
    select.setAttribute('aria-label', label);
    select.append(menu.content.cloneNode(true));
    select.options[0]!.textContent = label;
    return select;
  }

  function renderSteps(moves: CameraMoves): void {
    const list = $('camera-steps');
    list.replaceChildren();
    moves.forEach((step, index) => {
      const item = document.createElement('li');
      item.className = 'rounded-lg bg-white p-2';
      item.dataset.testid = 'camera-step';
      const head = document.createElement('div');
      head.className = 'flex flex-wrap items-center gap-2';
      const label = document.createElement('span');
      label.className = 'text-sm font-semibold text-slate-800';
      label.textContent = t('ui.preview.step', { n: index + 1 });
      const chips = document.createElement('ul');
      chips.className = 'flex flex-wrap gap-1.5';
      chips.append(...step.map((command) => chip(command, index)));
      head.append(label, chips);
      for (const [by, key] of [[-1, 'ui.preview.earlier'], [1, 'ui.preview.later']] as const) {
        const move = document.createElement('button');
        move.type = 'button';
        move.className = 'btn-compact';
        move.textContent = t(key);
        move.dataset.testid = by < 0 ? 'camera-step-earlier' : 'camera-step-later';
        move.disabled = by < 0 ? index === 0 : index === moves.length - 1;
        move.addEventListener('click', () => edit(moveStep(movesOf(), index, by)));
        head.append(move);
      }
      item.append(head);
      if (canAddToStep(moves, index)) {
        const add = menuSelect(t('ui.preview.addToStep'), 'camera-add-to-step');
        add.addEventListener('change', () => edit(addToStep(movesOf(), index, add.value)));
        item.append(add);
      } else {
        const full = document.createElement('p');
        full.className = 'mt-1 text-sm text-slate-700';
        full.textContent = t('ui.preview.stepFull');
        item.append(full);
      }
      list.append(item);
    });
    $('camera-none').hidden = moves.length > 0;
  }

  const refusalText: Record<ChipRefusal, string> = {
    'step-full': 'ui.preview.stepFull',
    'already-in-step': 'ui.preview.alreadyInStep',
    'too-many-steps': 'ui.preview.tooManySteps',
    'unknown-command': 'ui.preview.unknownMove',
    'no-such-step': 'ui.preview.unknownMove',
  };

  function edit(result: ChipEdit): void {
    const problem = $('camera-problem');
    if ('refused' in result) {
      problem.hidden = false;
      problem.textContent = t(refusalText[result.refused]);
      return;
    }
    problem.hidden = true;
    if (current) void ask({ previewId: current.previewId, cameraMoves: result.moves });
  }

  function templateText(view: TemplateView): [name: string, description: string, suits: string] {
    return tr.locale === 'ru' ? [view.nameRu, view.descriptionRu, view.suitsRu] : [view.nameEn, view.descriptionEn, view.suitsEn];
  }

  function renderTemplate(preview: Extract<Preview, { mode: 'template' }>): void {
    const box = $('preview-template');
    box.hidden = preview.template === null;
    if (preview.template) {
      const [name, description, suits] = templateText(preview.template);
      box.querySelector('[data-name]')!.textContent = name;
      box.querySelector('[data-description]')!.textContent = description;
      box.querySelector('[data-suits]')!.textContent = t('ui.preview.suits', { suits });
      const inputs = preview.inputs;
      box.querySelector('[data-inputs]')!.textContent = [
        t(inputs?.photo ? 'ui.preview.usesPhoto' : 'ui.preview.noPhoto'),
        ...(inputs?.text ?? []).map((text) => t('ui.preview.textInput', { text })),
      ].join(' ');
    }
    const list = $('preview-alternatives');
    list.replaceChildren(
      ...preview.alternatives.map((alternative) => {
        const item = document.createElement('li');
        item.className = 'flex flex-wrap items-center justify-between gap-2 rounded-lg bg-white p-2';
        item.dataset.testid = 'template-alternative';
        const [name, description] = templateText(alternative);
        const text = document.createElement('span');
        text.className = 'text-sm';
        const strong = document.createElement('strong');
        strong.textContent = name;
        text.append(strong, ` — ${description}`);
        const choose = document.createElement('button');
        choose.type = 'button';
        choose.className = 'btn-compact';
        choose.textContent = t('ui.preview.choose');
        choose.dataset.testid = 'template-choose';
        choose.addEventListener('click', () => void ask({ previewId: preview.previewId, templateId: alternative.id }));
        item.append(text, choose);
        return item;
      }),
    );
    $('preview-alternatives-block').hidden = preview.alternatives.length === 0;
    const switchMode = $<HTMLButtonElement>('preview-switch-mode');
    switchMode.hidden = preview.promptMode === null;
    if (preview.promptMode) switchMode.textContent = t('ui.preview.switchToPrompt', { price: tn('ui.credits', preview.promptMode.cost) });
  }

  function render(preview: Preview): void {
    current = preview;
    $('preview-panel').hidden = false;
    $('preview-summary').textContent = preview.summaryRu;
    $('preview-rules').hidden = preview.source !== 'rules';
    $('preview-prompt-mode').hidden = preview.mode !== 'prompt';
    $('preview-template-mode').hidden = preview.mode !== 'template';
    $('preview-ready').hidden = preview.mode === 'template' && preview.template === null;
    if (preview.mode === 'prompt') {
      $('preview-final-prompt').textContent = preview.finalPrompt;
      renderSteps(preview.cameraMoves);
      $<HTMLSelectElement>('camera-add-step').disabled = !canAddStep(preview.cameraMoves);
    } else {
      renderTemplate(preview);
    }
    refreshStale();
  }

  const addStepMenu = $<HTMLSelectElement>('camera-add-step');
  addStepMenu.append(menu.content.cloneNode(true));
  addStepMenu.addEventListener('change', () => {
    const command = addStepMenu.value;
    addStepMenu.value = '';
    if (command) edit(addStep(movesOf(), command));
  });
  $('preview-button').addEventListener('click', () => void ask(options.read()));
  $('preview-switch-mode').addEventListener('click', () => {
    // The seller's own choice, with the price on the button: never a silent switch.
    const prompt = form.querySelector<HTMLInputElement>('input[name="mode"][value="prompt"]');
    if (!prompt) return;
    prompt.checked = true;
    prompt.dispatchEvent(new Event('change', { bubbles: true }));
    void ask(options.read());
  });
  form.addEventListener('change', refreshStale);
  options.promptInput.addEventListener('input', refreshStale);

  return {
    previewIdFor(input: PreviewInput): string | null {
      if (!current || !sameInput(current, input)) return null;
      if (current.mode === 'template' && current.template === null) return null;
      return current.previewId;
    },
  };
}
