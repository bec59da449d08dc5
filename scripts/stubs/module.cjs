// In a CommonJS bundle, the bundle's own require loads the addon by absolute path. The public
// `node:module` would load Node's ESM loader and source-map support first (~1 ms on every call that
// touches the addon).
exports.createRequire = () => require;
