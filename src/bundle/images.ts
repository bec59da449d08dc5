// The image and bundle library behind `tsrunc image ...` and `tsrunc bundle ...` (built as dist/lib/images.cjs,
// loaded only by those commands).
export { Store, defaultStoreRoot } from './image/store';
export { importImage } from './image/import';
export { progressLine } from './image/progress';
export { listImages, removeImage } from './image/manage';
export { commitBundle } from './bundles/commit';
