/**
 * Checked decoding of SQLite rows: each table has one mapper (`rowToUser`, `rowToPayment`,
 * `rowToQueued`, `rowToLedgerEntry`) that reads its columns through a `RowReader`. A column
 * that is missing or holds another type than the schema promises is a broken expectation (a
 * query or a migration out of step with the code) and throws naming the table and column,
 * instead of flowing on as a wrongly typed value.
 */
export class RowReader {
  constructor(
    private readonly table: string,
    private readonly row: Record<string, unknown>,
  ) {}

  private fail(column: string, expected: string): never {
    const value = this.row[column];
    const got = value === undefined ? 'no such column' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
    throw new Error(`${this.table}.${column}: expected ${expected}, got ${got}`);
  }

  text(column: string): string {
    const value = this.row[column];
    return typeof value === 'string' ? value : this.fail(column, 'text');
  }

  textOrNull(column: string): string | null {
    const value = this.row[column];
    return value === null ? null : typeof value === 'string' ? value : this.fail(column, 'text or null');
  }

  int(column: string): number {
    const value = this.row[column];
    return typeof value === 'number' && Number.isInteger(value) ? value : this.fail(column, 'an integer');
  }

  intOrNull(column: string): number | null {
    const value = this.row[column];
    return value === null ? null : typeof value === 'number' && Number.isInteger(value) ? value : this.fail(column, 'an integer or null');
  }

  /** A 0/1 column. */
  flag(column: string): boolean {
    const value = this.row[column];
    return value === 1 ? true : value === 0 ? false : this.fail(column, '0 or 1');
  }

  /** A column limited to known values (the schema's CHECK). */
  oneOf<T extends string | number>(column: string, values: readonly T[]): T {
    const value = this.row[column];
    return values.includes(value as T) ? (value as T) : this.fail(column, `one of ${values.join(', ')}`);
  }
}

export function readRow(table: string, row: Record<string, unknown>): RowReader {
  return new RowReader(table, row);
}
