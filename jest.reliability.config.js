/**
 * The reliability suite (`npm run test:reliability`): fault injection at volume, property-based fuzzing,
 * duplicate deliveries and size limits. Same ts-jest ESM setup as jest.config.js; `RELIABILITY_EVENTS` sets
 * the size of the fault-injection run (default 100,000).
 */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 240000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
