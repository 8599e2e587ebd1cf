// The Metro config an Expo app needs for wiresync on web.
//
// On iOS/Android Metro resolves "wiresync" with the `react-native` export condition, which is
// already wiresync's Metro entry (wiresync/metro). Expo's web platform resolves with the
// `browser` condition instead, which gets the default entry: it loads `wiresync_bg.wasm` through
// `new URL("wiresync_bg.wasm", import.meta.url)`, a file Metro neither emits nor can bundle
// (failed to fetch Wasm: 404). So send "wiresync" to "wiresync/metro" (the wasm inlined as
// base64, no import.meta) on every platform. Importing "wiresync/metro" in the app instead
// needs no config.
const { getDefaultConfig } = require("expo/metro-config");

const config = getDefaultConfig(__dirname);
config.resolver.resolveRequest = (context, moduleName, platform) =>
  context.resolveRequest(context, moduleName === "wiresync" ? "wiresync/metro" : moduleName, platform);

module.exports = config;
