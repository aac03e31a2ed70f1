/**
 * Mutation testing of the money, queue and access rules (`npm run test:mutation`; not part of
 * `npm test` or CI: it takes a while). Each mutant is run against the in-process tests of
 * vitest.mutation.config.ts that cover it; the README records the last score.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    // Money: the ledger, prices, payments and who may notify us about them (client-address.ts
    // holds YooKassa's address allow-list).
    'src/lib/billing/ledger.ts',
    'src/lib/billing/pricing.ts',
    'src/lib/billing/apply-payment.ts',
    'src/lib/billing/payment-rules.ts',
    'src/lib/billing/start-payment.ts',
    'src/lib/billing/payment-store.ts',
    'src/lib/billing/reconciler.ts',
    'src/lib/http/client-address.ts',
    // The queue: accepting a generation (the hold), its guarded writes, the worker's lease
    // heartbeat (runStep). The rest of the worker is driven by the pipeline tests, which
    // take seconds per mutant: too slow for this run.
    'src/lib/generation/create.ts',
    'src/lib/generation/credits.ts',
    'src/lib/generation/queue.ts',
    'src/lib/generation/worker.ts:206-236',
    // Access: sessions, the route guards, admin access, the node routes' session check.
    'src/lib/auth/sessions.ts',
    'src/lib/auth/guards.ts',
    'src/lib/admin/access.ts',
    'src/lib/http/node-kit.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The sandbox copy needs dist/ (the integration helpers check for the build), not local state.
  ignorePatterns: ['data', 'storage', 'reports', 'bench/results', 'test-artifacts'],
  tempDirName: '.stryker-tmp',
};
