import type { ProcessRole } from './config.ts';

/** Where a background task belongs: with the HTTP side, with the job side, or in every process. */
export type TaskPlace = 'web' | 'worker' | 'both';

/** Whether a task of this place runs in a process of this role (`all` runs everything). */
export function runsInRole(place: TaskPlace, role: ProcessRole): boolean {
  return role === 'all' || place === 'both' || place === role;
}
