import type { Database } from '../db/database.ts';
import { applyCreditChange } from '../billing/ledger.ts';
import { ledgerRef } from '../model.ts';

/**
 * The money side of a generation, one function per move: credits are held when it is
 * accepted and refunded at most once. Both MUST run inside the transaction that writes the
 * generation row (or its `refunded` flag), so the row and the ledger never disagree.
 */

interface GenerationCharge {
  generationId: string;
  userId: string;
  cost: number;
  /** The ledger line's note, shown to admins. */
  note: string;
  now: number;
}

/** Takes the cost from the balance (ledger `hold:<id>`); returns the balance after. Free generations hold nothing. */
export async function holdCredits(db: Database, charge: GenerationCharge): Promise<number> {
  if (charge.cost <= 0) return (await db.value<number>('SELECT generation_balance FROM users WHERE id = ?', [charge.userId]))!;
  const { balanceAfter } = await applyCreditChange(db, {
    userId: charge.userId,
    delta: -charge.cost,
    kind: 'hold',
    reference: ledgerRef.hold(charge.generationId),
    note: charge.note,
    now: charge.now,
  });
  return balanceAfter;
}

/**
 * Gives the held cost back (ledger `refund:<id>`). The unique reference makes a second
 * refund of the same generation a no-op, whoever asks (the worker, an admin).
 */
export async function refundHold(db: Database, charge: GenerationCharge): Promise<void> {
  if (charge.cost <= 0) return;
  await applyCreditChange(db, {
    userId: charge.userId,
    delta: charge.cost,
    kind: 'refund',
    reference: ledgerRef.refund(charge.generationId),
    note: charge.note.slice(0, 500),
    now: charge.now,
  });
}
