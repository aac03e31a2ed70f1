import { listLedgerEntries } from '../../lib/billing/ledger.ts';
import { requireUser } from '../../lib/auth/guards.ts';
import { apiRoute, json } from '../../lib/http/respond.ts';

const LIMIT = 100;

/** GET /api/ledger — the signed-in user's credit history, newest first (the billing page's list). */
export const GET = apiRoute(async ({ locals }) => {
  const user = requireUser(locals);
  const entries = (await listLedgerEntries(locals.ctx.db, user.id, LIMIT)).map((entry) => ({
    id: entry.id,
    kind: entry.kind,
    delta: entry.delta,
    balanceAfter: entry.balanceAfter,
    createdAt: entry.createdAt,
  }));
  return json({ success: true, balance: user.balance, entries });
});
