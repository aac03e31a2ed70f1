import { randomBytes } from 'node:crypto';

/** Ids shaped like the spec's `gen_1737014400000_abc123def`: a prefix, the time, random tail. */
export function newId(prefix: string, now: number): string {
  return `${prefix}_${now}_${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').toLowerCase()}`;
}
