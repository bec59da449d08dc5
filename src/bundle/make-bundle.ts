// `node dist/make-bundle.cjs DIR [-- cmd args...]`: writes DIR/rootfs (busybox) and DIR/config.json
// (the default spec, no terminal) so that `tsrunc run -b DIR demo` works as is.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeBusyboxRootfs } from './busybox';
import { defaultSpec } from './spec';
import { engineProfileToOci } from './seccomp-profile';

export const DEMO_ARGS = ['sh', '-c', 'echo hello from tsrunc; cat /etc/hostname 2>/dev/null || hostname; id'];

/** `seccompProfile`: a Docker/containers-common profile file, applied as an engine would. */
export function makeBundle(dir: string, args: string[] = DEMO_ARGS, seccompProfile?: string): void {
  const rootfs = join(dir, 'rootfs');
  if (existsSync(rootfs)) throw new Error(`${rootfs} already exists`);
  mkdirSync(dir, { recursive: true });
  makeBusyboxRootfs(rootfs);
  const spec = defaultSpec({ args });
  if (spec.process) spec.process.terminal = false;
  if (seccompProfile) {
    const profile = JSON.parse(readFileSync(seccompProfile, 'utf8'));
    spec.linux!.seccomp = engineProfileToOci(profile, spec.process?.capabilities?.bounding ?? []);
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
}

function main(argv: string[]): number {
  let seccomp: string | undefined;
  const at = argv.indexOf('--seccomp');
  if (at >= 0 && at < (argv.indexOf('--') >>> 0)) {
    seccomp = argv[at + 1];
    argv = [...argv.slice(0, at), ...argv.slice(at + 2)];
  }
  const sep = argv.indexOf('--');
  const positional = sep < 0 ? argv : argv.slice(0, sep);
  const args = sep < 0 ? undefined : argv.slice(sep + 1);
  if (positional.length !== 1 || positional[0].startsWith('-') || (args && args.length === 0)) {
    process.stderr.write('usage: make-bundle DIR [--seccomp PROFILE.json] [-- cmd args...]\n');
    return 2;
  }
  const dir = resolve(positional[0]);
  try {
    makeBundle(dir, args, seccomp);
  } catch (err) {
    process.stderr.write(`make-bundle: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  process.stdout.write(`bundle ready: ${dir}\nrun it with: tsrunc run -b ${dir} demo\n`);
  return 0;
}

// Only as the bundled CLI entry (dist/make-bundle.cjs), not when imported by tests.
if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) process.exitCode = main(process.argv.slice(2));
