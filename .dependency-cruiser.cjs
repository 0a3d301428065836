/**
 * Dependency direction (CONVENTIONS.md §10): apps → libs, never app → app; contracts depend
 * on nothing of ours; libs never reach into apps; tests of one app don't reach into another's
 * internals except through test/ (e2e suites compose whole apps on purpose).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-app-to-app',
      severity: 'error',
      comment: 'Apps talk over NATS only; shared code belongs in libs/.',
      from: { path: '^apps/([^/]+)/', pathNot: '\\.(int-spec|spec)\\.ts$' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'no-lib-to-app',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'contracts-depend-on-nothing',
      severity: 'error',
      comment: 'Wire definitions only: no Nest, no other lib.',
      from: { path: '^libs/contracts/' },
      to: { path: '^(libs/(?!contracts/)|apps/)|node_modules/@nestjs' },
    },
    {
      name: 'no-testing-in-production-code',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['\\.(int-spec|spec)\\.ts$', '^libs/testing/'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'no-runtime-to-tools',
      severity: 'error',
      comment: 'tools/ (sb CLI, manifest generator) builds on apps/libs facts, never the other way round.',
      from: { path: '^(apps|libs)/' },
      to: { path: '^tools/' },
    },
    {
      name: 'agent-sdk-speaks-only-the-protocol',
      severity: 'error',
      comment: 'packages/agent-sdk is installed in users\' repositories: it speaks the public protocol only, never our libs, apps or tests (its npm dependencies are checked by its own unit test: node_modules is excluded here).',
      from: { path: '^packages/agent-sdk/', pathNot: '\\.(int-spec|spec)\\.ts$' },
      to: { path: '^(apps|libs|test|tools|scripts|packages/(?!agent-sdk/))' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|node_modules)/' },
  },
};
