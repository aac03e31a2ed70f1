import type { Duration, GenerationMode } from '../model.ts';

/**
 * What the prompt engine makes of a user's text (spec "Двухфазный Prompt Engine").
 * Every stage is kept so the admin page can show how the final prompt came about.
 */
export interface PromptRequest {
  mode: GenerationMode;
  /** The user's text, trimmed, 3–2000 characters, usually Russian. */
  prompt: string;
  duration: Duration;
  userId: string;
  generationId: string;
}

export interface TemplateChoice {
  templateId: string;
  templateName: string;
  /** Text inputs the template needs (`text_inputs` values), may be empty. */
  textInputs: string[];
  /** Whether the template takes the user's photo as its media input. */
  usesImage: boolean;
}

export interface PreparedPrompt {
  mode: GenerationMode;
  /** Phase 1 result (English cinematic description). */
  cinematic: string;
  /** Phase 2 result with camera commands (prompt mode), else null. */
  director: string | null;
  /** The valid camera commands in the final prompt, in order. */
  cameraCommands: string[];
  /** What goes to MiniMax as `prompt` (prompt mode) or the template's final prompt text. */
  finalPrompt: string;
  template: TemplateChoice | null;
  /** Template mode: other fitting templates the seller may switch to (ids, best first). */
  alternatives: string[];
  /** Template mode: whether the template fits what the seller has (false: today's default, for lack of one). */
  templateFits: boolean;
  /** Stages that fell back to local rules because the model failed or timed out. */
  fallbacks: PromptStageName[];
  /** How each stage went, in order (for logs and the admin page). */
  stages: PromptStageReport[];
}

export type PromptStageName = 'enhancer' | 'compiler' | 'router';

export interface PromptStageReport {
  stage: PromptStageName;
  source: 'model' | 'fallback';
  /** Why the stage fell back (the alert's error text), else null. */
  error: string | null;
  durationMs: number;
}

export interface PromptEngine {
  prepare(request: PromptRequest): Promise<PreparedPrompt>;
}
