// The runtime config.json of a bundle from an image config, as image-spec conversion.md specifies, with the
// overrides `docker run` takes (env, user, workdir, entrypoint, command). Networking and port publishing are
// the engine's job: ExposedPorts are only recorded as an annotation.
import { existsSync, readFileSync } from 'node:fs';
import type { Spec } from '../../runtime/config/types';
import type { ImageConfig } from '../image/types';
import { engineProfileToOci } from '../seccomp-profile';
import { defaultSpec } from '../spec';
import { resolveUser } from './users';
import type { VolumeUse } from './volumes';

export const DEFAULT_SECCOMP = '/usr/share/containers/seccomp.json';

export interface ConvertOptions {
  env?: string[];
  user?: string;
  workdir?: string;
  entrypoint?: string;
  cmd?: string[];
  /** false: no seccomp; a path: that Docker/containers-common profile; default: DEFAULT_SECCOMP. */
  seccomp?: string | false;
  volumes: VolumeUse[];
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new Error(`--env ${e}: expected K=V`);
    out.set(e.slice(0, eq), e);
  }
  return [...out.values()];
}

function annotations(image: ImageConfig): Record<string, string> {
  const c = image.config ?? {};
  const a: Record<string, string> = {};
  const set = (k: string, v: string | undefined) => v !== undefined && v !== '' && (a[`org.opencontainers.image.${k}`] = v);
  set('os', image.os);
  set('architecture', image.architecture);
  set('variant', image.variant);
  set('os.version', image['os.version']);
  set('os.features', image['os.features']?.join(','));
  set('author', image.author);
  set('created', image.created);
  set('stopSignal', c.StopSignal);
  set('exposedPorts', Object.keys(c.ExposedPorts ?? {}).join(',') || undefined);
  // Labels come first in conversion.md's order but the fields above win on a clash.
  return { ...(c.Labels ?? {}), ...a };
}

export function convertConfig(image: ImageConfig, rootfs: string, o: ConvertOptions): Spec {
  const c = image.config ?? {};
  const entrypoint = o.entrypoint !== undefined ? (o.entrypoint ? [o.entrypoint] : []) : (c.Entrypoint ?? []);
  // A new entrypoint drops the image's Cmd, as `docker run --entrypoint` does.
  const cmd = o.cmd?.length ? o.cmd : o.entrypoint !== undefined ? [] : (c.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (!args.length) throw new Error('the image has no Entrypoint or Cmd: give a command');
  // Unprivileged: a user namespace that maps the caller to root (its files are the caller's).
  const rootless = (process.geteuid?.() ?? 0) !== 0;
  const spec = defaultSpec({ args, rootless });
  const p = spec.process!;
  p.terminal = false;
  let env = mergeEnv(c.Env ?? [], o.env ?? []);
  if (!env.some((e) => e.startsWith('PATH='))) env = [p.env![0]!, ...env];
  p.env = env;
  p.cwd = o.workdir || c.WorkingDir || '/';
  const userSpec = o.user ?? c.User;
  if (userSpec) {
    const u = resolveUser(rootfs, userSpec);
    if (rootless && (u.uid !== 0 || u.gid !== 0 || u.additionalGids.length)) {
      throw new Error(`user "${userSpec}" is ${u.uid}:${u.gid}${u.additionalGids.length ? ` (groups ${u.additionalGids.join(',')})` : ''}, but a rootless container maps only the caller, as 0:0: use --user root`);
    }
    p.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    if (u.home && !env.some((e) => e.startsWith('HOME='))) p.env.push(`HOME=${u.home}`);
  }
  // An image's rootfs is writable through its container layer.
  spec.root = { path: 'rootfs', readonly: false };
  spec.mounts = [...spec.mounts!, ...o.volumes.map((v) => v.mount)];
  spec.annotations = annotations(image);
  const profile = o.seccomp === undefined ? DEFAULT_SECCOMP : o.seccomp;
  if (profile) {
    if (!existsSync(profile)) throw new Error(`seccomp profile ${profile} not found (pass --no-seccomp to run without one)`);
    spec.linux!.seccomp = engineProfileToOci(JSON.parse(readFileSync(profile, 'utf8')), p.capabilities?.bounding ?? []);
  }
  return spec;
}
