/** Jest runs the TypeScript sources as ESM through ts-jest (transpile only; `npm run typecheck` checks types). */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The reliability suite is large; it runs with `npm run test:reliability` (and reduced in .ci/run).
  testPathIgnorePatterns: ['/node_modules/', '/test/reliability/'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
