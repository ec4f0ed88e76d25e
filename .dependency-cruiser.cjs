/**
 * The server's floors, top to bottom: cli → http (routes, pages) → tessera.ts (composition root) → core →
 * adapters (store, state, mail, geo) and config → lib. An import may only go down (or stay on its floor),
 * and no import loop may exist anywhere. `npm run lint` runs this check.
 */
const S = '^packages/server/src/';
const ADAPTERS = `${S}(store|state|mail|geo)/`;
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'lib-is-the-floor', severity: 'error', from: { path: `${S}lib/` }, to: { path: S, pathNot: `${S}lib/` } },
    {
      name: 'adapters-stay-below-core',
      severity: 'error',
      from: { path: [ADAPTERS, `${S}config\\.ts$`] },
      to: { path: [`${S}(core|http|cli)/`, `${S}tessera\\.ts$`] },
    },
    {
      // core depends on the adapters' interfaces only, never on an implementation
      name: 'core-uses-adapter-interfaces-only',
      severity: 'error',
      from: { path: `${S}core/` },
      to: { path: ADAPTERS, pathNot: `${S}(store/ports/|state/types\\.ts$|mail/types\\.ts$|geo/types\\.ts$)` },
    },
    { name: 'core-stays-below-the-edge', severity: 'error', from: { path: `${S}core/` }, to: { path: [`${S}(http|cli)/`, `${S}tessera\\.ts$`] } },
    { name: 'composition-root-below-http', severity: 'error', from: { path: `${S}tessera\\.ts$` }, to: { path: `${S}(http|cli)/` } },
    {
      // routes and pages reach the core services, never a storage or shared-state implementation
      name: 'http-uses-core-services',
      severity: 'error',
      from: { path: `${S}http/` },
      to: { path: `${S}(store|state)/`, pathNot: `${S}(store/ports/|state/types\\.ts$)` },
    },
    { name: 'http-below-cli', severity: 'error', from: { path: `${S}http/` }, to: { path: `${S}cli/` } },
    {
      name: 'sdk-and-browser-stand-alone',
      severity: 'error',
      from: { path: '^packages/(sdk|browser)/src/' },
      to: { path: '^packages/server/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '/test/', '\\.d\\.ts$', '/dist/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
