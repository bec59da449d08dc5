/** Default state root: each containerd namespace gets `<root>/<namespace>`, as runc's shim does. */
export const DEFAULT_ROOT = '/run/containerd/tsrunc';
