// One jest config, three tiers selected by file suffix (see CONVENTIONS.md):
//   *.spec.ts      pure unit tests beside the code
//   *.int-spec.ts  one service against real NATS/Redis
//   test/e2e, test/chaos  flows across services (*.e2e-spec.ts)
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
}];
const moduleNameMapper = {
  '^@sb/(contracts|messaging|redis|config|observability|tasks|testing)$': '<rootDir>/libs/$1/src',
  '^@sb/(contracts|messaging|redis|config|observability|tasks|testing)/(.*)$': '<rootDir>/libs/$1/src/$2',
  // packages/: what users import from their own repositories (e2e suites use it from source).
  '^@switchboard/agent-sdk$': '<rootDir>/packages/agent-sdk/src',
};
// NestJS 12 ships as ESM; jest's own module loader cannot require() ESM (Node 24 itself can), so those packages are compiled
// to CommonJS by the same swc transform. The built services load them natively (require(esm)).
const esmPackages = ['@nestjs', 'file-type', 'strtok3', 'token-types', 'peek-readable', '@tokenizer', 'uint8array-extras', 'load-esm', '@kubernetes', 'jose', 'openid-client', 'oauth4webapi', 'agent-base', 'socks-proxy-agent',
  // The OTLP exporter loads node:http with a dynamic import(), which jest's CommonJS sandbox refuses; compiled, it becomes require().
  '@opentelemetry/otlp-exporter-base'];
const base = {
  transform: { '^.+\\.(t|[cm]?j)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
};
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,packages}/**/*.spec.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/packages/[^/]+/dist/'] },
    // Deployment tooling (tools/: fleet spec, manifest generator): pure, like unit tests.
    { ...base, displayName: 'deploy', testMatch: ['<rootDir>/tools/**/*.spec.ts'] },
    { ...base, displayName: 'int', testMatch: ['<rootDir>/{apps,libs,packages}/**/*.int-spec.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/packages/[^/]+/dist/'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts', globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts' },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts', '<rootDir>/test/security/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts', globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts' },
    // The ops console in Debian's Chromium (playwright-core) against a whole fleet; fails, never skips, without Chromium.
    { ...base, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts', globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts' },
    // Kills and restarts under load on test-owned servers (test/chaos); CHAOS_LONG=1 (npm run chaos) for the long form.
    { ...base, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.chaos-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts', globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts' },
    // docker-compose.yml in real containers (test/containers, docs/containers.md): builds images, so only with
    // `npm run test:containers` (SB_CONTAINER_TESTS=1), never in a plain `npm test`. It needs no test servers of its own.
    ...(process.env.SB_CONTAINER_TESTS === '1' ? [{ ...base, displayName: 'containers', testMatch: ['<rootDir>/test/containers/**/*.containers-spec.ts'] }] : []),
  ],
};
