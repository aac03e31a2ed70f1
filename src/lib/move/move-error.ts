/**
 * Why a move of the shop to PostgreSQL or S3 stopped, for the operator: a code the command
 * turns into its exit status, a sentence saying what to do, and the details behind it
 * (which users, tables or files).
 */
export type MoveErrorCode =
  /** The file has no Beem schema (no schema_migrations). */
  | 'SOURCE_NOT_BEEM'
  /** The SQLite schema is older or newer than this code's migrations. */
  | 'SOURCE_SCHEMA_MISMATCH'
  /** A balance differs from its ledger, or a row points at a missing parent: copying would carry it over. */
  | 'SOURCE_INCONSISTENT'
  /** The SQLite file changed while it was being copied (Beem still running on it). */
  | 'SOURCE_CHANGED'
  /** The target's tables or columns are not the ones the source has. */
  | 'TARGET_SCHEMA_MISMATCH'
  /** The target holds rows and the operator did not say to copy into it. */
  | 'TARGET_NOT_EMPTY'
  /** After copying, the two sides differ: nothing was committed. */
  | 'CHECK_FAILED';

export class MoveError extends Error {
  constructor(
    readonly code: MoveErrorCode,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'MoveError';
  }
}
