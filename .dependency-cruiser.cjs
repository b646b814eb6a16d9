/**
 * The dependency rules of DESIGN.md ("Layout", "Dependency direction"), checked by `npm run deps`
 * (part of `npm test`). Type-only imports count: a cycle through types is still a cycle.
 */

/** Our processes reach the SDK through its entries only: public, internal, and `tributary/lambda`. */
const SDK_ENTRIES = '^sdk/src/(index|internal|lambda/index)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included: move the shared part to a leaf module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'sdk-depends-on-nothing-of-ours',
      comment: 'The SDK imports nothing of this repository outside sdk/.',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(functions|local|infra|cli|gateway|console|bench|scripts|test)/' },
    },
    {
      name: 'processes-use-sdk-entries',
      comment:
        'cli, functions, local, gateway, console, bench and scripts import the SDK through sdk/src/index.ts ' +
        '(public) or sdk/src/internal.ts (our own processes), never a deeper path.',
      severity: 'error',
      from: { path: '^(cli|functions|local|gateway|console|bench|scripts|examples)/' },
      to: { path: '^sdk/', pathNot: SDK_ENTRIES },
    },
    {
      name: 'infra-uses-entries-and-shared-config',
      comment:
        "infra imports the SDK's entries and the functions' shared configuration " +
        '(functions/environment.ts); it bundles the functions by path, never imports them.',
      severity: 'error',
      from: { path: '^infra/' },
      to: {
        path: '^(sdk|functions|local|cli|gateway|console)/',
        pathNot: [SDK_ENTRIES, '^functions/environment[.]ts$'],
      },
    },
    {
      name: 'nothing-imports-tests',
      comment: 'Only tests import test/ (helpers, fixtures).',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'nothing-imports-benchmarks',
      comment: 'Benchmarks are leaves: nothing imports bench/.',
      severity: 'error',
      from: { pathNot: '^bench/' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)([.]git|node_modules|cdk[.]out|[.]tributary|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
