import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { inTransaction } from '../../src/lib/db/database.ts';
import { applyCreditChange, findLedgerMismatches, listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { upsertUserFromIdentity } from '../../src/lib/auth/users.ts';
import { seedUser } from '../helpers/fixtures.ts';

let db: Db;
let userId: string;
beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  userId = (await seedUser(db, { email: 'Seller@Example.ru', subject: 'sub-1' })).id;
});

describe('credit ledger', () => {
  it('grants the trial once, as a ledger line, and matches the cached balance', async () => {
    const again = await upsertUserFromIdentity(
      db,
      { provider: 'oidc', subject: 'sub-1', email: 'seller@example.ru', name: 'Seller', picture: null },
      { now: 2000, trialCredits: 3, adminEmails: [] },
    );
    expect(again.created).toBe(false);
    expect(again.user.balance).toBe(3);
    expect((await listLedgerEntries(db, userId)).map((e) => [e.kind, e.delta])).toEqual([['trial', 3]]);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('applies a reference once; a repeat changes nothing', async () => {
    const first = await applyCreditChange(db, { userId, delta: -1, kind: 'hold', reference: 'hold:g1', now: 3000 });
    const repeat = await applyCreditChange(db, { userId, delta: -1, kind: 'hold', reference: 'hold:g1', now: 3001 });
    expect(first).toEqual({ applied: true, balanceAfter: 2 });
    expect(repeat).toEqual({ applied: false, balanceAfter: 2 });
  });

  it('refuses to overspend with the required and current amounts, leaving no trace', async () => {
    await expect(async () => applyCreditChange(db, { userId, delta: -4, kind: 'hold', reference: 'hold:g2', now: 3000 })).rejects.toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_BALANCE', status: 402, details: { required: 4, current: 3 } }),
    );
    expect(await listLedgerEntries(db, userId)).toHaveLength(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('rolls the balance back with the caller transaction', async () => {
    await expect(
      inTransaction(db, async (tx) => {
        await applyCreditChange(tx, { userId, delta: -2, kind: 'hold', reference: 'hold:g3', now: 3000 });
        throw new Error('insert of the generation failed');
      }),
    ).rejects.toThrow('insert of the generation failed');
    expect(await db.value('SELECT generation_balance FROM users')).toBe(3);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('reports a user whose cached balance drifted from the ledger', async () => {
    await db.run('UPDATE users SET generation_balance = 7 WHERE id = ?', [userId]);
    expect(await findLedgerMismatches(db)).toEqual([{ userId, cachedBalance: 7, ledgerSum: 3 }]);
  });
});
