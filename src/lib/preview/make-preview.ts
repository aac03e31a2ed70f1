import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { AppError, badRequest } from '../errors.ts';
import { validateGenerationRequest, type ValidatedRequest } from '../generation/create.ts';
import { t } from '../i18n/index.ts';
import { checkCameraMoves, replaceCameraMoves } from '../prompt/camera-edit.ts';
import { sanitizeDirectorPrompt } from '../prompt/camera-commands.ts';
import { findTemplate } from '../prompt/template-catalog.ts';
import { fillTextInputs } from '../prompt/template-rules.ts';
import { toTemplateChoice } from '../prompt/template-router.ts';
import type { PromptEngine } from '../prompt/types.ts';
import { findCachedPreview, findLivePreview, newPreviewId, previewInputKey, savePreview, type PreviewContent, type StoredPreview } from './preview-store.ts';
import { promptSummaryRu, templateSummaryRu } from './summary.ts';

/**
 * `POST /api/prompt-preview` (issue 16, item 1): what the prompt engine makes of the
 * seller's text before anything is paid — or an edit of an earlier preview (camera moves,
 * another offered template), which asks no model and gets its own id. Engine results the
 * model made are cached per user and input for the preview's hour; results of the local
 * rules are not, so a model that comes back is asked again.
 */

export interface PreviewDeps {
  db: Database;
  config: Config;
  engine: PromptEngine;
}

export interface PreviewOptions {
  userId: string;
  body: unknown;
  now: number;
}

/** A template as the preview shows it (the /app script reads the same shape). */
export interface TemplateView {
  id: string;
  nameRu: string;
  nameEn: string;
  descriptionRu: string;
  /** For the English interface. */
  descriptionEn: string;
  /** What the template suits (kinds of product, or the photo it needs). */
  suitsRu: string;
  suitsEn: string;
}

export type PreviewAnswer =
  | {
      previewId: string;
      mode: 'prompt';
      prompt: string;
      duration: number;
      finalPrompt: string;
      cameraMoves: string[][];
      summaryRu: string;
      source: 'model' | 'rules';
      expiresAt: number;
    }
  | {
      previewId: string;
      mode: 'template';
      prompt: string;
      duration: number;
      template: TemplateView | null;
      alternatives: TemplateView[];
      inputs: { photo: boolean; text: string[] } | null;
      summaryRu: string;
      source: 'model' | 'rules';
      /** When no template fits: prompt mode for this length, at its price (never a silent switch). */
      promptMode: { cost: number } | null;
      expiresAt: number;
    };

type Edit = { kind: 'camera'; previewId: string; cameraMoves: unknown } | { kind: 'template'; previewId: string; templateId: unknown };

function readEdit(body: unknown): Edit | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('previewId' in body)) return null;
  const fields = body as Record<string, unknown>;
  if (typeof fields.previewId !== 'string' || fields.previewId.length > 100) throw badRequest('PREVIEW_NOT_FOUND', 'previewId');
  if ('cameraMoves' in fields) return { kind: 'camera', previewId: fields.previewId, cameraMoves: fields.cameraMoves };
  if ('templateId' in fields) return { kind: 'template', previewId: fields.previewId, templateId: fields.templateId };
  throw badRequest('CAMERA_MOVES_INVALID', 'cameraMoves');
}

export async function makePreview(deps: PreviewDeps, options: PreviewOptions): Promise<PreviewAnswer> {
  const edit = readEdit(options.body);
  const stored = edit ? await editPreview(deps, options, edit) : await previewFromEngine(deps, options, validateGenerationRequest(options.body, deps.config));
  return previewAnswer(deps.config, stored);
}

async function previewFromEngine(deps: PreviewDeps, options: PreviewOptions, request: ValidatedRequest): Promise<StoredPreview> {
  const { db, engine } = deps;
  const cached = await findCachedPreview(db, options.userId, previewInputKey(request.mode, request.duration, request.prompt), options.now);
  if (cached) return cached;
  // The engine's alerts name the preview, labelled as one, so support can find it (the
  // generation made from it records the same id).
  const id = newPreviewId(options.now);
  const prepared = await engine.prepare({ ...request, userId: options.userId, generationId: `preview:${id}` });
  const source = prepared.fallbacks.length === 0 ? 'model' : 'rules';
  let content: PreviewContent;
  if (prepared.mode === 'prompt') {
    const cameraMoves = sanitizeDirectorPrompt(prepared.finalPrompt).groups;
    content = { mode: 'prompt', cinematic: prepared.cinematic, finalPrompt: prepared.finalPrompt, cameraMoves, summaryRu: promptSummaryRu(request.prompt, cameraMoves) };
  } else {
    const template = prepared.templateFits ? prepared.template : null;
    const offered = template ? [template.templateId, ...prepared.alternatives] : [];
    content = {
      mode: 'template',
      cinematic: prepared.cinematic,
      template,
      offered,
      summaryRu: templateSummaryRu(request.prompt, template?.templateId ?? null, promptCost(deps.config, request.duration)),
    };
  }
  return savePreview(db, { id, userId: options.userId, parentId: null, ...request, source, content, now: options.now });
}

async function editPreview(deps: PreviewDeps, options: PreviewOptions, edit: Edit): Promise<StoredPreview> {
  const { db } = deps;
  const base = await findLivePreview(db, options.userId, edit.previewId, options.now);
  if (!base) throw new AppError('PREVIEW_NOT_FOUND', { status: 404 });
  const content = base.content;
  const save = (next: PreviewContent) =>
    savePreview(db, { userId: options.userId, parentId: base.id, mode: base.mode, duration: base.duration, prompt: base.prompt, source: base.source, content: next, now: options.now });

  if (edit.kind === 'camera') {
    if (content.mode !== 'prompt') throw badRequest('PREVIEW_MODE_MISMATCH', 'cameraMoves');
    const checked = checkCameraMoves(edit.cameraMoves);
    if ('problem' in checked) throw badRequest(checked.problem, 'cameraMoves');
    const rebuilt = replaceCameraMoves(content.finalPrompt, checked.moves);
    return save({ ...content, finalPrompt: rebuilt.text, cameraMoves: rebuilt.groups, summaryRu: promptSummaryRu(base.prompt, rebuilt.groups) });
  }

  if (content.mode !== 'template') throw badRequest('PREVIEW_MODE_MISMATCH', 'templateId');
  const templateId = typeof edit.templateId === 'string' ? edit.templateId : '';
  const template = content.offered.includes(templateId) ? findTemplate(templateId) : null;
  if (!template) throw badRequest('TEMPLATE_NOT_OFFERED', 'templateId');
  // Switching asks no model: the rules fill the new template's inputs from the same texts.
  const choice = toTemplateChoice(template, fillTextInputs(template, base.prompt, content.cinematic));
  return save({
    ...content,
    template: choice,
    summaryRu: templateSummaryRu(base.prompt, choice.templateId, promptCost(deps.config, base.duration)),
  });
}

function promptCost(config: Config, duration: ValidatedRequest['duration']): number {
  return config.pricing.generation.prompt[duration];
}

function templateView(id: string): TemplateView | null {
  if (!findTemplate(id)) return null;
  return {
    id,
    nameRu: t('ru', `templates.${id}.name`),
    nameEn: t('en', `templates.${id}.name`),
    descriptionRu: t('ru', `templates.${id}.description`),
    descriptionEn: t('en', `templates.${id}.description`),
    suitsRu: t('ru', `templates.${id}.suits`),
    suitsEn: t('en', `templates.${id}.suits`),
  };
}

export function previewAnswer(config: Config, stored: StoredPreview): PreviewAnswer {
  const common = { previewId: stored.id, prompt: stored.prompt, duration: stored.duration, source: stored.source, expiresAt: stored.expiresAt };
  const content = stored.content;
  if (content.mode === 'prompt') {
    return { ...common, mode: 'prompt', finalPrompt: content.finalPrompt, cameraMoves: content.cameraMoves, summaryRu: content.summaryRu };
  }
  const template = content.template;
  return {
    ...common,
    mode: 'template',
    template: template ? templateView(template.templateId) : null,
    alternatives: content.offered
      .filter((id) => id !== template?.templateId)
      .map(templateView)
      .filter((v): v is TemplateView => v !== null),
    inputs: template ? { photo: template.usesImage, text: template.textInputs } : null,
    summaryRu: content.summaryRu,
    promptMode: template ? null : { cost: promptCost(config, stored.duration) },
  };
}
