import fs from 'node:fs';
import { warnerFor, type Globals } from '../context';
import { foregroundConsole } from '../tty';
import { activationFds } from './create-args';
import { exec } from '../../runtime/ops/exec';
import { markRepresentative } from '../fast/warm-mark';

export interface ExecFlags {
  process?: string;
  tty?: boolean;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  cap: string[];
  /** commander reads `--no-new-privs` as the negation of `--new-privs`: false when given. */
  newPrivs?: boolean;
  preserveFds: number;
  ignorePaused?: boolean;
  cgroup: string[];
  apparmor?: string;
  processLabel?: string;
}

/** "UID[:GID]" as runc takes it. */
function parseUser(spec: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`invalid --user "${spec}": use UID[:GID]`);
  return { uid: Number(m[1]), gid: m[2] === undefined ? undefined : Number(m[2]) };
}

/** runc's `--cgroup [<controller>:]<path>`: on cgroup v2 one path for all controllers. */
function subCgroup(args: string[]): string | undefined {
  if (args.length === 0) return undefined;
  if (args.length > 1) throw new Error(`--cgroup given ${args.length} times: cgroup v2 takes one path`);
  const arg = args[0]!;
  if (arg.includes(':')) throw new Error(`invalid --cgroup "${arg}": cgroup v2 has no per-controller paths`);
  if (arg === '') throw new Error('--cgroup: empty path');
  return arg;
}

/** Resolves true when nothing of ours is left running (detached, no terminal of ours being copied). */
export async function execAction(g: Globals, id: string, command: string[], o: ExecFlags): Promise<boolean> {
  const proc = o.process ? JSON.parse(fs.readFileSync(o.process, 'utf8')) : undefined;
  const terminal = proc ? !!proc.terminal : !!o.tty;
  const console = !terminal ? undefined : o.consoleSocket ? { socketPath: o.consoleSocket } : foregroundConsole();
  // A foreground pty starts with our size: resizing after the master arrives races the process.
  // (process.stdout only then: touching it loads the tty/stream stack, ~2 ms.)
  const out = terminal && !o.consoleSocket ? process.stdout : undefined;
  const ownSize = out?.isTTY ? { height: out.rows, width: out.columns } : undefined;
  if (proc && ownSize && !proc.consoleSize) proc.consoleSize = ownSize;
  const status = await exec({
    root: g.root,
    id,
    process: proc,
    overrides: {
      args: command,
      env: o.env,
      cwd: o.cwd,
      user: o.user ? parseUser(o.user) : undefined,
      additionalGids: o.additionalGids.length ? o.additionalGids.map(Number) : undefined,
      addCaps: o.cap,
      noNewPrivileges: o.newPrivs === false,
      terminal,
      consoleSize: ownSize,
      apparmorProfile: o.apparmor,
      selinuxLabel: o.processLabel,
    },
    detach: o.detach,
    pidFile: o.pidFile,
    console,
    preserveFds: o.preserveFds + activationFds(),
    ignorePaused: o.ignorePaused,
    subCgroup: subCgroup(o.cgroup),
    warn: warnerFor(g, 'exec'),
  });
  process.exitCode = status;
  markRepresentative();
  return !!o.detach && !out;
}
