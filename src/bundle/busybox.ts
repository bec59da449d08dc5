// A minimal root filesystem made of Debian's statically linked busybox, for demos and tests.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_BUSYBOX = '/bin/busybox';

export interface BusyboxRootfsOptions {
  /** Path of a statically linked busybox binary (Debian: busybox-static). */
  busybox?: string;
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'user:x:1000:1000:user:/home/user:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
];
const GROUP = ['root:x:0:', 'user:x:1000:', 'nogroup:x:65534:'];

/** Fills `dir` (created if missing, must be empty) with bin/busybox, one symlink per applet and a few /etc files. */
export function makeBusyboxRootfs(dir: string, opts: BusyboxRootfsOptions = {}): void {
  const busybox = opts.busybox ?? DEFAULT_BUSYBOX;
  if (!existsSync(busybox)) {
    throw new Error(`${busybox} not found (install Debian's busybox-static)`);
  }
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);

  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'root', 'home/user', 'usr', 'var']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  mkdirSync(join(dir, 'tmp'), { mode: 0o1777 });
  chmodSync(join(dir, 'tmp'), 0o1777); // mkdir's mode is filtered by the umask
  chmodSync(join(dir, 'root'), 0o700);
  // One directory of applets; the usual PATH entries point at it.
  symlinkSync('bin', join(dir, 'sbin'));
  symlinkSync('../bin', join(dir, 'usr/bin'));
  symlinkSync('../bin', join(dir, 'usr/sbin'));

  copyFileSync(busybox, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  // --list prints bare applet names; a static busybox needs nothing else from the host.
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && !s.includes('/'));
  for (const applet of applets) symlinkSync('busybox', join(dir, 'bin', applet));

  writeFileSync(join(dir, 'etc/passwd'), PASSWD.join('\n') + '\n');
  writeFileSync(join(dir, 'etc/group'), GROUP.join('\n') + '\n');
  writeFileSync(join(dir, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  chownSync(join(dir, 'home/user'), 1000, 1000);
}
