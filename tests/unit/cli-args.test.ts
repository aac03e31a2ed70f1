import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/server/cli-args.ts';

describe('parseArgs (operator commands)', () => {
  it.each([
    [['a', 'b'], { positional: ['a', 'b'], options: {} }],
    [['--reason', 'typo fix', 'id1'], { positional: ['id1'], options: { reason: 'typo fix' } }],
    [['--free', '--reason', 'x'], { positional: [], options: { free: true, reason: 'x' } }],
    [['--reason=a b'], { positional: [], options: { reason: 'a b' } }],
    // Only the first '=' splits: a URL keeps its query.
    [['--to=postgres://beem@db/beem?sslmode=require&x=1'], { positional: [], options: { to: 'postgres://beem@db/beem?sslmode=require&x=1' } }],
    [['--into-non-empty'], { positional: [], options: { 'into-non-empty': true } }],
  ])('%j', (args, expected) => {
    expect(parseArgs(args)).toEqual(expected);
  });
});
