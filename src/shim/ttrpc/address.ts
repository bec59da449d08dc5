// Socket addresses as containerd 1.6 writes them: "unix:///path" is a socket file; a bare string is an
// abstract socket (Go's shim convention). We only ever listen on socket files (see src/shim/README.md).
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** The path to give net.connect(): a file path, or "\0name" for an abstract address. */
export function socketPath(address: string): string {
  if (address.startsWith('unix://')) return address.slice('unix://'.length);
  if (address.startsWith('/')) return address;
  return `\0${address}`;
}

/**
 * The shim socket address containerd's own shims use: /run/containerd/s/<sha256(containerdAddress/ns/id)>,
 * short enough for sun_path (108 bytes) whatever the bundle path. `root` is for tests.
 */
export function shimSocketAddress(containerdAddress: string, namespace: string, id: string, root = '/run/containerd'): string {
  const digest = createHash('sha256').update(join(containerdAddress, namespace, id)).digest('hex');
  return `unix://${join(root, 's', digest)}`;
}
