import path from 'node:path';
import { afterEach } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { tempDir } from './app.ts';

/**
 * For a describe block of unit tests on seeded rows: returns a function that opens a fresh,
 * migrated SQLite file in a temp dir; every database opened is closed after each test.
 */
export function useTempDatabases(): () => Db {
  const opened: Db[] = [];
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
  });
  return () => {
    const db = openDatabase(path.join(tempDir(), 'beem.db'));
    opened.push(db);
    migrate(db);
    return db;
  };
}
