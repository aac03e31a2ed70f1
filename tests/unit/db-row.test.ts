import { describe, expect, it } from 'vitest';
import { readRow } from '../../src/lib/db/row.ts';

describe('checked row reader', () => {
  const row = { id: 'gen_1', cost: 2, image: null, charged: 1, status: 'queued', ratio: 1.5 };
  const r = readRow('generations', row);

  it('reads columns of the promised types', () => {
    expect([r.text('id'), r.int('cost'), r.textOrNull('image'), r.flag('charged'), r.oneOf('status', ['queued', 'failed'])]).toEqual([
      'gen_1',
      2,
      null,
      true,
      'queued',
    ]);
  });

  it.each([
    [() => r.text('cost'), 'generations.cost: expected text, got number 2'],
    [() => r.int('ratio'), 'generations.ratio: expected an integer, got number 1.5'],
    [() => r.int('image'), 'generations.image: expected an integer, got object null'],
    [() => r.textOrNull('missing'), 'generations.missing: expected text or null, got no such column'],
    [() => r.flag('cost'), 'generations.cost: expected 0 or 1, got number 2'],
    [() => r.oneOf('status', ['success', 'failed']), 'generations.status: expected one of success, failed, got string "queued"'],
  ])('refuses what the schema does not promise (%#)', (read, message) => {
    expect(read).toThrow(message);
  });
});
