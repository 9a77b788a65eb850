export {
  buildNixClosure,
  type FixtureItem,
  type NixClosureFixture,
  queryReferences,
  queryRequisites,
} from './nix-closure.js';
