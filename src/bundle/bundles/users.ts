// Resolves an image's User ("user", "uid", "user:group", "uid:gid") through the image's own /etc/passwd and
// /etc/group, read from the bundle's rootfs without following symlinks (they would point into the host).
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home?: string;
}

function readImageFile(rootfs: string, rel: string): string[] | null {
  let path = rootfs;
  const parts = rel.split('/').filter(Boolean);
  for (const [i, p] of parts.entries()) {
    path = join(path, p);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) return null;
    if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) return null;
  }
  return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l);
}

const NUM = /^\d+$/;

export function resolveUser(rootfs: string, spec: string): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':');
  const passwd = readImageFile(rootfs, 'etc/passwd');
  const group = readImageFile(rootfs, 'etc/group');
  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  let home: string | undefined;
  const entry = passwd?.map((l) => l.split(':')).find((f) => (NUM.test(userPart) ? f[2] === userPart : f[0] === userPart));
  if (entry) {
    name = entry[0];
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5];
  } else if (NUM.test(userPart)) {
    uid = Number(userPart);
  } else {
    throw new Error(`user "${userPart}": no such user in the image's /etc/passwd${passwd ? '' : ' (the image has none)'}`);
  }
  if (groupPart !== undefined) {
    if (NUM.test(groupPart)) gid = Number(groupPart);
    else {
      const g = group?.map((l) => l.split(':')).find((f) => f[0] === groupPart);
      if (!g) throw new Error(`group "${groupPart}": no such group in the image's /etc/group${group ? '' : ' (the image has none)'}`);
      gid = Number(g[2]);
    }
  }
  // Supplementary groups: those listing the user by name (as docker does), only without an explicit group.
  const additionalGids =
    name && groupPart === undefined
      ? (group ?? []).map((l) => l.split(':')).filter((f) => (f[3] ?? '').split(',').includes(name!)).map((f) => Number(f[2]))
      : [];
  return { uid, gid: gid ?? 0, additionalGids: additionalGids.filter((g) => g !== gid), home };
}
