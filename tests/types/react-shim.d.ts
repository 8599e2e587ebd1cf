// tsc runs on files in tests/types with fixed options and no tsconfig, and pkg/react.d.ts
// imports "react", which no node_modules above pkg/ holds. This script file (no imports or
// exports) declares the module "react" as @types/react's UMD global `React` (tests/package.json),
// i.e. the same declarations an app gets from its own node_modules/@types/react.
/// <reference types="../node_modules/@types/react" />
declare module "react" {
  export = React;
}
