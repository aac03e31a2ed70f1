import type { Db } from '../db/index.ts';

export interface GenerationEventInput {
  kind: string;
  status?: string | null;
  step?: string | null;
  attempt?: number | null;
  /** Short text or JSON for support; never a secret. */
  detail?: string | null;
  now: number;
}

/** One line of a generation's history (admin page, support). */
export function recordGenerationEvent(db: Db, generationId: string, event: GenerationEventInput): void {
  db.prepare(
    `INSERT INTO generation_events (generationId, kind, status, step, attempt, detail, createdAt)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    generationId,
    event.kind,
    event.status ?? null,
    event.step ?? null,
    event.attempt ?? null,
    event.detail?.slice(0, 2000) ?? null,
    event.now,
  );
}

export interface GenerationEvent {
  id: number;
  kind: string;
  status: string | null;
  step: string | null;
  attempt: number | null;
  detail: string | null;
  createdAt: number;
}

export function listGenerationEvents(db: Db, generationId: string): GenerationEvent[] {
  return db
    .prepare(
      `SELECT id, kind, status, step, attempt, detail, createdAt FROM generation_events
       WHERE generationId = ? ORDER BY id`,
    )
    .all(generationId) as GenerationEvent[];
}
