import type { Database } from '../db/database.ts';

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
export async function recordGenerationEvent(db: Database, generationId: string, event: GenerationEventInput): Promise<void> {
  await db.run(
    `INSERT INTO generation_events (generationId, kind, status, step, attempt, detail, createdAt)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [
      generationId,
      event.kind,
      event.status ?? null,
      event.step ?? null,
      event.attempt ?? null,
      event.detail?.slice(0, 2000) ?? null,
      event.now,
    ],
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

export async function listGenerationEvents(db: Database, generationId: string): Promise<GenerationEvent[]> {
  return db.all<GenerationEvent>(
    `SELECT id, kind, status, step, attempt, detail, createdAt FROM generation_events
     WHERE generationId = ? ORDER BY id`,
    [generationId],
  );
}
