import { describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/lib/db/index.ts';
import { auditedAction, cliActor, listAudit } from '../../src/lib/admin/audit.ts';

function freshDb() {
  const db = openDatabase(':memory:');
  migrate(db);
  return db;
}

const entry = (requestKey: string | null) =>
  ({ actor: cliActor, action: 'user.adjust_balance', targetType: 'user', targetId: 'usr_1', reason: 'because', requestKey, now: 1000 }) as const;

describe('auditedAction', () => {
  it('writes the audit row with the facts of the change, and gives the change its id', async () => {
    const db = freshDb();
    let seenId = 0;
    const result = await auditedAction(db, entry('key-one-12'), {
      replay: () => ({ applied: false }),
      change: (auditId) => {
        seenId = auditId;
        return { outcome: { applied: true }, detail: { delta: 5 } };
      },
    });
    expect(result).toEqual({ applied: true, auditId: seenId });
    expect(await listAudit(db)).toMatchObject([{ id: seenId, action: 'user.adjust_balance', targetId: 'usr_1', reason: 'because', detail: { delta: 5 } }]);
  });

  it('answers a resent one-time key from the first row without running the change again', async () => {
    const db = freshDb();
    let runs = 0;
    const steps = {
      replay: (seen: { id: number }) => ({ applied: false, first: seen.id }),
      change: () => {
        runs += 1;
        return { outcome: { applied: true, first: 0 } };
      },
    };
    const first = await auditedAction(db, entry('key-two-12'), steps);
    const again = await auditedAction(db, entry('key-two-12'), steps);
    expect(runs).toBe(1);
    expect(again).toEqual({ applied: false, first: first.auditId, auditId: first.auditId });
    expect(await listAudit(db)).toHaveLength(1);
  });

  it('leaves no audit row when the change refuses', async () => {
    const db = freshDb();
    const refuse = auditedAction(db, entry('key-three-12'), {
      replay: () => ({ applied: false }),
      change: () => {
        throw new Error('not allowed');
      },
    });
    await expect(refuse).rejects.toThrow('not allowed');
    expect(await listAudit(db)).toEqual([]);
  });

  it('runs async steps inside its transaction: their writes through `tx` roll back with the audit row', async () => {
    const db = freshDb();
    await db.run(`INSERT INTO pending_admins (email, grantedBy, createdAt) VALUES ('kept@example.ru', 'cli', 1)`);
    const refuse = auditedAction(db, entry('key-four-123'), {
      replay: () => ({ applied: false }),
      change: async (_auditId, tx) => {
        await tx.run('DELETE FROM pending_admins');
        throw new Error('refused after a write');
      },
    });
    await expect(refuse).rejects.toThrow('refused after a write');
    expect(await db.value('SELECT COUNT(*) FROM pending_admins')).toBe(1);
    expect(await listAudit(db)).toEqual([]);

    const replayed = await auditedAction(db, entry('key-five-123'), {
      replay: () => ({ seenBy: 'none' }),
      change: async (auditId, tx) => ({ outcome: { seenBy: String(await tx.value('SELECT id FROM admin_audit WHERE id = ?', [auditId])) } }),
    });
    const again = await auditedAction(db, entry('key-five-123'), {
      replay: async (seen, tx) => ({ seenBy: String(await tx.value('SELECT id FROM admin_audit WHERE id = ?', [seen.id])) }),
      change: () => ({ outcome: { seenBy: 'changed twice' } }),
    });
    expect(replayed.seenBy).toBe(String(replayed.auditId));
    expect(again).toEqual({ seenBy: String(replayed.auditId), auditId: replayed.auditId });
  });
});
