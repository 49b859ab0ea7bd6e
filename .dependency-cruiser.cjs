// The layer rules engram's code keeps (CONTRIBUTING.md explains them); `npm run check:imports`
// runs them and `npm run typecheck` runs that. Paths are relative to the repository root.
//
// Layers, bottom up: config/ -> the floor (pipelines/records/, pipelines/{vectors,log,jobs,metrics,follow-ups}.ts)
// -> pipelines/repositories/ and models/ -> stages (pipelines/<stage>/) -> services/.
// Tests (test/, *.spec.ts, *.test.ts) may reach across layers and use any package.

const TEST = '(^test/|\\.(spec|test)\\.ts$)';
const FLOOR = '^pipelines/(records/|(vectors|log|jobs|metrics|follow-ups)\\.ts$)';
// Every folder under pipelines/ but records/ and repositories/ is a stage (ingest, perceive, ...).
const STAGE = '^pipelines/(?!records/|repositories/)[^/]+/';
// The packages with side effects: a queue, Redis, LanceDB, ffmpeg, onnxruntime.
const SIDE_EFFECT_PACKAGES = '(^|/)node_modules/(@types/)?(bullmq|ioredis|@lancedb/lancedb|fluent-ffmpeg|onnxruntime-node)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles (type-only imports included): a reader must be able to read the layers bottom up.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'side-effects-in-repositories',
      severity: 'error',
      comment: 'Only pipelines/repositories/ and models/runtime/ import bullmq, ioredis, @lancedb/lancedb, fluent-ffmpeg or onnxruntime-node (STYLE.md rule 1).',
      from: { pathNot: `^(pipelines/repositories/|models/runtime/)|${TEST}` },
      to: { path: SIDE_EFFECT_PACKAGES },
    },
    {
      name: 'repositories-and-models-stay-down',
      severity: 'error',
      comment: 'Repositories and models never import a stage or a service: stages are built on them, not the other way round.',
      from: { path: '^(pipelines/repositories|models)/', pathNot: TEST },
      to: { path: `${STAGE}|^services/` },
    },
    {
      name: 'stages-never-import-services',
      severity: 'error',
      comment: 'A stage takes what it needs (repositories, a Log) as parameters; services wire stages, never the reverse.',
      from: { path: '^pipelines/', pathNot: TEST },
      to: { path: '^services/' },
    },
    {
      name: 'floor-imports-nothing-above',
      severity: 'error',
      comment: 'The shared data formats (the floor) import only config/ and each other, so every layer may import them.',
      from: { path: FLOOR, pathNot: TEST },
      to: { path: '^(pipelines|services|models|test)/', pathNot: FLOOR },
    },
    {
      name: 'config-is-the-base',
      severity: 'error',
      comment: 'config/ is read by everything and imports nothing of engram but itself.',
      from: { path: '^config/', pathNot: TEST },
      to: { path: '^(pipelines|services|models|test)/' },
    },
    {
      name: 'product-never-imports-tests',
      severity: 'error',
      comment: 'Test helpers are not shipped: product code must not depend on them.',
      from: { path: '^(pipelines|services|models|config)/', pathNot: TEST },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|data)/' },
    // Type-only imports count: a cycle through types still ties the layers together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
