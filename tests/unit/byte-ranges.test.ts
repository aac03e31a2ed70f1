import { describe, expect, it } from 'vitest';
import { chooseRange } from '../../src/lib/blobs/byte-ranges.ts';

describe('chooseRange', () => {
  const size = 1000;
  it.each([
    ['no header', undefined, 'whole'],
    ['the first bytes', 'bytes=0-9', { start: 0, end: 9 }],
    ['the middle', 'bytes=100-199', { start: 100, end: 199 }],
    ['from a position to the end', 'bytes=990-', { start: 990, end: 999 }],
    ['the last bytes (suffix)', 'bytes=-10', { start: 990, end: 999 }],
    ['a suffix longer than the file', 'bytes=-5000', { start: 0, end: 999 }],
    ['an end past the end, clipped', 'bytes=995-5000', { start: 995, end: 999 }],
    ['the last byte', 'bytes=999-999', { start: 999, end: 999 }],
    ['a start at the end', 'bytes=1000-', 'unsatisfiable'],
    ['a start past the end', 'bytes=5000-6000', 'unsatisfiable'],
    ['an empty suffix', 'bytes=-0', 'unsatisfiable'],
    ['several ranges (answered whole, as send does)', 'bytes=0-1,5-6', 'whole'],
    ['an end before the start (ignored)', 'bytes=9-0', 'whole'],
    ['another unit', 'items=0-9', 'whole'],
    ['garbage', 'bytes=abc', 'whole'],
    ['a bare dash', 'bytes=-', 'whole'],
    ['a number too long to be a position', `bytes=${'9'.repeat(20)}-`, 'whole'],
  ])('%s: %s', (_name, header, expected) => {
    expect(chooseRange(header, size)).toEqual(expected);
  });

  it('has nothing to give from an empty file but the whole (empty) body', () => {
    expect(chooseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(chooseRange('bytes=-5', 0)).toBe('unsatisfiable');
    expect(chooseRange(undefined, 0)).toBe('whole');
  });
});
