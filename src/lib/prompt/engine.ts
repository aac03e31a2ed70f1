import type { Logger } from '../logger.ts';
import type { LlmClient } from '../providers/llm/client.ts';
import { isLlmError, type LlmError, type LlmErrorKind } from '../providers/llm/errors.ts';
import type { AlertStage, Notifier } from '../notify/types.ts';
import { compileWithModel, fallbackDirectorPrompt } from './camera-compiler.ts';
import { enhanceWithModel, fallbackCinematic } from './enhancer.ts';
import { fallbackTemplateChoice, routeWithModel } from './template-router.ts';
import { rankTemplates } from './template-fit.ts';
import { transplantCameraMoves } from './camera-edit.ts';
import type { SanitizedPrompt } from './camera-commands.ts';
import type { PreparedPrompt, PromptEngine, PromptRequest, PromptStageName, PromptStageReport } from './types.ts';

/**
 * The two-phase prompt engine (spec "Двухфазный Prompt Engine", DESIGN.md §3).
 * Each phase has its own time budget; on timeout, error or invalid output the operator
 * is alerted under the spec's stage name and a local rule set takes over, so a
 * generation never fails because the model is down. `prepare` never throws for model
 * trouble.
 */

export interface PromptEngineOptions {
  llm: LlmClient;
  notifier: Notifier;
  log: Logger;
  timeouts: { enhancerMs: number; compilerMs: number; routerMs: number };
}

/** A stage's fall-back, told to the operator once the engine knows what else failed. */
interface StageFailure {
  alertStage: AlertStage;
  message: string;
  /** Null for our own bug (not model trouble). */
  kind: LlmErrorKind | null;
}

interface StageOutcome<T> {
  value: T;
  report: PromptStageReport;
  error: LlmError | null;
  /** Set when the model was asked and failed; null when it answered or was skipped. */
  failure: StageFailure | null;
}

export function createPromptEngine(options: PromptEngineOptions): PromptEngine {
  const log = options.log.child({ mod: 'prompt' });

  /** Tells the operator about a stage that fell back (never throws, never waits). */
  function raise(request: PromptRequest, failure: StageFailure, error = failure.message): void {
    options.notifier.alert({ stage: failure.alertStage, error, userId: request.userId, generationId: request.generationId });
  }

  async function runStage<T>(
    request: PromptRequest,
    stage: PromptStageName,
    alertStage: AlertStage,
    skipModelBecause: LlmError | null,
    withModel: () => Promise<T>,
    fallback: () => T,
  ): Promise<StageOutcome<T>> {
    const started = Date.now();
    if (skipModelBecause) {
      // The previous phase found the model unreachable: waiting out a second budget
      // would only delay the user; its alert already told the operator.
      log.info({ stage, generationId: request.generationId, reason: skipModelBecause.kind }, 'model skipped, local rules used');
      return {
        value: fallback(),
        report: { stage, source: 'fallback', error: `skipped: ${skipModelBecause.message}`, durationMs: Date.now() - started },
        error: skipModelBecause,
        failure: null,
      };
    }
    try {
      const value = await withModel();
      return { value, report: { stage, source: 'model', error: null, durationMs: Date.now() - started }, error: null, failure: null };
    } catch (err) {
      // Model trouble arrives as LlmError; anything else is our own bug, said as such.
      const error = isLlmError(err) ? err : null;
      const message = error?.message ?? `internal error: ${err instanceof Error ? err.message : String(err)}`;
      log.warn({ stage, generationId: request.generationId, kind: error?.kind ?? 'internal', err }, 'prompt stage fell back to local rules');
      return {
        value: fallback(),
        report: { stage, source: 'fallback', error: message, durationMs: Date.now() - started },
        error,
        failure: { alertStage, message, kind: error?.kind ?? null },
      };
    }
  }

  /**
   * The two prompt-mode phases ask the model at the same moment, so one outage fails both.
   * The operator gets one alert per generation for it: the enhancer's, in the spec's
   * format, saying the compiler fell back too. Failures of different kinds are two
   * problems and get an alert each.
   */
  function raisePromptModeFailures(request: PromptRequest, enhancer: StageFailure | null, compiler: StageFailure | null): void {
    if (enhancer && compiler && enhancer.kind !== null && enhancer.kind === compiler.kind) {
      raise(request, enhancer, `${enhancer.message} (camera compiler fell back too)`);
      return;
    }
    if (enhancer) raise(request, enhancer);
    if (compiler) raise(request, compiler);
  }

  async function prepare(request: PromptRequest): Promise<PreparedPrompt> {
    const { llm, timeouts } = options;
    const text = request.prompt.trim();

    if (request.mode === 'prompt') {
      // The compiler reads the user's words, not the enhancer's text: both run at once,
      // so the model's latency is paid once (issue 16, item 6).
      const [enhancer, compiler] = await Promise.all([
        runStage(request, 'enhancer', 'GPT_ENHANCE_PROMPT', null, () => enhanceWithModel(llm, 'prompt', text, timeouts.enhancerMs), () =>
          fallbackCinematic('prompt', text),
        ),
        runStage<SanitizedPrompt | null>(request, 'compiler', 'GPT_CAMERA_COMPILER', null, () => compileWithModel(llm, text, timeouts.compilerMs), () => null),
      ]);
      raisePromptModeFailures(request, enhancer.failure, compiler.failure);
      const cinematic = enhancer.value;
      const director = compiler.value ? transplantCameraMoves(compiler.value, cinematic) : fallbackDirectorPrompt(text, cinematic);
      const stages = [enhancer.report, compiler.report];
      return {
        mode: 'prompt',
        cinematic,
        director: director.text,
        cameraCommands: director.commands,
        finalPrompt: director.text,
        template: null,
        alternatives: [],
        templateFits: false,
        fallbacks: stages.filter((s) => s.source === 'fallback').map((s) => s.stage),
        stages,
      };
    }

    const enhancer = await runStage(
      request,
      'enhancer',
      'GPT_ENHANCE_TEMPLATE',
      null,
      () => enhanceWithModel(llm, 'template', text, timeouts.enhancerMs),
      () => fallbackCinematic('template', text),
    );
    if (enhancer.failure) raise(request, enhancer.failure);
    const cinematic = enhancer.value;
    const skip = enhancer.error?.unavailable ? enhancer.error : null;
    const ranking = rankTemplates(text);
    // Nothing fits what the seller has: no model is asked to pick among nothing. A preview
    // says so, and /api/generate refuses such a request before holding credits (item 3);
    // the keyword default below only serves generations queued before that check.
    const router =
      ranking.fitting.length === 0
        ? null
        : await runStage(
            request,
            'router',
            'TEMPLATE_ROUTER',
            skip,
            () => routeWithModel(llm, text, cinematic, timeouts.routerMs, ranking.fitting),
            () => fallbackTemplateChoice(text, cinematic, ranking.fitting),
          );
    if (router?.failure) raise(request, router.failure);
    const template = router?.value ?? fallbackTemplateChoice(text, cinematic, []);
    const stages = router ? [enhancer.report, router.report] : [enhancer.report];
    return {
      mode: 'template',
      cinematic,
      director: null,
      cameraCommands: [],
      finalPrompt: cinematic,
      template,
      alternatives: ranking.fitting.map((t) => t.id).filter((id) => id !== template.templateId).slice(0, 3),
      templateFits: router !== null,
      fallbacks: stages.filter((s) => s.source === 'fallback').map((s) => s.stage),
      stages,
    };
  }

  return { prepare };
}
