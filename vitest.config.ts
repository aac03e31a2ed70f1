import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests need the built app (dist/); the helper says so clearly if it is missing.
    // One PostgreSQL server for the run; test files create their own databases on it.
    globalSetup: ['tests/helpers/global-setup.ts', 'tests/helpers/postgres-server.ts'],
  },
});
