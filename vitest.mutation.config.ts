import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests `npm run test:mutation` runs against each mutant: those that call the money,
 * queue and access modules in this process. HTTP-level tests are left out on purpose: the
 * built server bundles its own copy of `src/lib`, so a mutant in `src` never reaches it.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'tests/unit/**/*.test.ts',
      'tests/integration/generation-heartbeat.test.ts',
      'tests/integration/payment-service.test.ts',
    ],
  },
});
