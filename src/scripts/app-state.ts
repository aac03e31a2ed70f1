/**
 * The app page's decisions, kept free of the DOM so they can be tested on their own:
 * why "Generate" is unavailable, which progress stage a status means, and how the
 * server's camera commands read.
 */

import { PROMPT_MAX, PROMPT_MIN, type Duration, type GenerationMode, type GenerationStatus, type GenerationStep } from '../lib/model.ts';

export type Costs = Record<GenerationMode, Record<Duration, number>>;

export interface FormState {
  hasImage: boolean;
  uploading: boolean;
  promptLength: number;
  cost: number;
  balance: number;
  /** A generation of this user is queued or running. */
  running: boolean;
  submitting: boolean;
}

export type Blocker =
  | { key: 'uploading' | 'noImage' | 'promptShort' | 'promptLong' | 'running' | 'submitting' }
  | { key: 'balance'; cost: number; balance: number };

/**
 * The first thing that keeps the user from generating, in the order that matters: without
 * the credits, a photo and a description would not help, so the balance comes first.
 */
export function generateBlocker(state: FormState): Blocker | null {
  if (state.submitting) return { key: 'submitting' };
  if (state.running) return { key: 'running' };
  if (state.balance < state.cost) return { key: 'balance', cost: state.cost, balance: state.balance };
  if (state.uploading) return { key: 'uploading' };
  if (!state.hasImage) return { key: 'noImage' };
  if (state.promptLength < PROMPT_MIN) return { key: 'promptShort' };
  if (state.promptLength > PROMPT_MAX) return { key: 'promptLong' };
  return null;
}

/**
 * The length to keep selected when the balance changes: a 10-second choice the balance no
 * longer covers falls back to 6 seconds when those are affordable (`switched` says so, and
 * the page tells the user). A choice the user makes afterwards is left as it is.
 */
export function fitDuration(selected: Duration, costs: Record<Duration, number>, balance: number): { duration: Duration; switched: boolean } {
  if (selected === 10 && balance < costs[10] && balance >= costs[6]) return { duration: 6, switched: true };
  return { duration: selected, switched: false };
}

/** Prompt length as the server counts it: surrounding spaces do not count. */
export function promptLength(text: string): number {
  return text.trim().length;
}

/** Progress stages the user sees, in order. */
export const STAGES = ['prepare', 'queue', 'generate', 'save', 'done'] as const;
export type Stage = (typeof STAGES)[number];

export function progressStage(status: GenerationStatus, step: GenerationStep | null | undefined): Stage {
  if (status === 'success') return 'done';
  if (step === 'download') return 'save';
  if (status === 'processing' || step === 'poll') return 'generate';
  if (step === 'prepare') return 'prepare';
  return 'queue';
}

export function isLive(status: string): boolean {
  return status === 'queued' || status === 'processing';
}

/** Camera commands arrive as an array, a JSON array string, or the bracketed text itself. */
export function readCameraCommands(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  if (typeof value !== 'string' || value.trim() === '') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return readCameraCommands(parsed);
  } catch {
    // Not JSON: fall through to the bracket form.
  }
  const found = [...value.matchAll(/\[([^\]]+)\]/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()));
  return found.length > 0 ? found.filter(Boolean) : [value.trim()];
}
