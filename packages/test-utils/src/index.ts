export {
  type ImageTransport,
  podmanLoad,
  runInBundle,
  skopeoInspect,
  unpackWithUmoci,
} from './container-tools.js';
export {
  buildNixClosure,
  type FixtureItem,
  type NixClosureFixture,
  queryReferences,
  queryRequisites,
} from './nix-closure.js';
export { type CommandOutput, runCommand } from './run-command.js';
