import { randomBytes } from 'node:crypto';

/** What an id made by `newId` (or a test) can look like; anything else is not worth a query. */
export const ID_PATTERN = /^[A-Za-z0-9_]{1,80}$/;

/** Ids shaped like the spec's `gen_1737014400000_abc123def`: a prefix, the time, random tail. */
export function newId(prefix: string, now: number): string {
  return `${prefix}_${now}_${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').toLowerCase()}`;
}
