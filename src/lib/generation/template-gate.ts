import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { rankTemplates } from '../prompt/template-fit.ts';
import type { ValidatedRequest } from './create.ts';

/**
 * Template mode only takes a request some template fits (issue 16, item 3: never a silent
 * switch at generate time). The fit is decided by rules alone, so it is checked at accept
 * time, before any credits are held: the seller is told that no template fits and what
 * «Свободный сценарий» (prompt mode) would cost for the same length, and nothing is queued.
 */
export function refuseUnfitTemplateRequest(request: ValidatedRequest, config: Config): void {
  if (request.mode !== 'template' || rankTemplates(request.prompt).fitting.length > 0) return;
  const cost = config.pricing.generation.prompt[request.duration];
  throw new AppError('NO_TEMPLATE_FITS', { status: 400, field: 'prompt', params: { price: cost }, details: { promptMode: { cost } } });
}
