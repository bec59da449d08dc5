// The light half of the image library: `bundle create/rm/mount` (built as dist/lib/bundles.cjs). It loads
// no stream, zlib, crypto or tar code, so a bundle from a stored image costs little more than node's start.
export { Store, defaultStoreRoot } from './image/store';
export { createBundle, mountBundle, removeBundle } from './bundles/create';
