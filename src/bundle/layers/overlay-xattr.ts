// Overlayfs keeps its own metadata (opaque directories) in trusted.overlay.* xattrs, which only a root with
// CAP_SYS_ADMIN can set, or in user.overlay.* when mounted with `userxattr` (how an unprivileged user mounts
// it in a user namespace). Layers unpacked by root use the first, by an unprivileged user the second.
export const IS_ROOT = (process.geteuid?.() ?? 0) === 0;

export const OPAQUE_XATTR = IS_ROOT ? 'trusted.overlay.opaque' : 'user.overlay.opaque';

export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

export function isOpaque(lgetxattr: (p: string, n: string) => Buffer | null, path: string): boolean {
  for (const n of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    try {
      if (lgetxattr(path, n)?.toString() === 'y') return true;
    } catch {
      // trusted.* cannot be read unprivileged
    }
  }
  return false;
}
