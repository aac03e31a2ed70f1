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
  it('writes the audit row with the facts of the change, and gives the change its id', () => {
    const db = freshDb();
    let seenId = 0;
    const result = auditedAction(db, entry('key-one-12'), {
      replay: () => ({ applied: false }),
      change: (auditId) => {
        seenId = auditId;
        return { outcome: { applied: true }, detail: { delta: 5 } };
      },
    });
    expect(result).toEqual({ applied: true, auditId: seenId });
    expect(listAudit(db)).toMatchObject([{ id: seenId, action: 'user.adjust_balance', targetId: 'usr_1', reason: 'because', detail: { delta: 5 } }]);
  });

  it('answers a resent one-time key from the first row without running the change again', () => {
    const db = freshDb();
    let runs = 0;
    const steps = {
      replay: (seen: { id: number }) => ({ applied: false, first: seen.id }),
      change: () => {
        runs += 1;
        return { outcome: { applied: true, first: 0 } };
      },
    };
    const first = auditedAction(db, entry('key-two-12'), steps);
    const again = auditedAction(db, entry('key-two-12'), steps);
    expect(runs).toBe(1);
    expect(again).toEqual({ applied: false, first: first.auditId, auditId: first.auditId });
    expect(listAudit(db)).toHaveLength(1);
  });

  it('leaves no audit row when the change refuses', () => {
    const db = freshDb();
    const refuse = () =>
      auditedAction(db, entry('key-three-12'), {
        replay: () => ({ applied: false }),
        change: () => {
          throw new Error('not allowed');
        },
      });
    expect(refuse).toThrow('not allowed');
    expect(listAudit(db)).toEqual([]);
  });
});
