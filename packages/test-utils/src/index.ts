export {
  type ImageTransport,
  podmanLoad,
  runInBundle,
  skopeoInspect,
  unpackWithUmoci,
} from './container-tools.js';
export { exportReferencesGraph } from './export-references-graph.js';
export { type GeneratedStore, generateStore } from './generated-store.js';
export {
  buildNixClosure,
  type FixtureItem,
  type NixClosureFixture,
  queryReferences,
  queryRequisites,
} from './nix-closure.js';
export {
  type ProxiedRequest,
  type ProxyAction,
  type RegistryProxy,
  startRegistryProxy,
} from './registry-proxy.js';
export { type PulledImage, pullWithSkopeo } from './registry-pull.js';
export {
  freePort,
  type LoggedRequest,
  parseAccessLog,
  type RegistryServer,
  startRegistry,
} from './registry-server.js';
export { type CommandOutput, runCommand } from './run-command.js';
