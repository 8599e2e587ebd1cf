// wiresync/shared: the API of "wiresync", whose `connect` also takes `shareAcrossTabs: true`.
export * from "./index.js";
export { default } from "./index.js";
