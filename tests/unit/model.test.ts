import { describe, expect, it } from 'vitest';
import { generationOfLedgerRef, ledgerRef } from '../../src/lib/model.ts';

describe('ledger references', () => {
  it.each([
    [ledgerRef.hold('gen_1_a'), 'gen_1_a'],
    [ledgerRef.refund('gen_1_a'), 'gen_1_a'],
    [ledgerRef.payment('pay_1_a'), null],
    [ledgerRef.trial('usr_1_a'), null],
    [ledgerRef.adminAdjustment(7), null],
  ])('%s names generation %s', (reference, generationId) => {
    expect(generationOfLedgerRef(reference)).toBe(generationId);
  });

  it('gives each change of one object its own reference', () => {
    const refs = [ledgerRef.hold('x'), ledgerRef.refund('x'), ledgerRef.payment('x'), ledgerRef.trial('x')];
    expect(new Set(refs).size).toBe(refs.length);
  });
});
