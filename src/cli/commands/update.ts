import fs from 'node:fs';
import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';

interface UpdateFlags {
  resources?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** Sizes as runc's flags take them: bytes, or with a k/m/g/t suffix (powers of 1024); -1 = unlimited. */
export function parseSize(value: string): number {
  const m = /^(-?\d+)([kmgt]?)i?b?$/i.exec(value.trim());
  if (!m) throw new Error(`invalid size "${value}"`);
  return Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
}

const int = (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new Error(`invalid number "${v}"`);
  return Number(v);
};

/** The flags as a linux.resources object (only what was given). */
export function flagsToResources(o: UpdateFlags): Record<string, Record<string, unknown>> {
  const r: Record<string, Record<string, unknown>> = {};
  const set = (group: string, key: string, value: unknown) => ((r[group] ??= {})[key] = value);
  if (o.memory !== undefined) set('memory', 'limit', parseSize(o.memory));
  if (o.memorySwap !== undefined) set('memory', 'swap', parseSize(o.memorySwap));
  if (o.memoryReservation !== undefined) set('memory', 'reservation', parseSize(o.memoryReservation));
  if (o.cpuQuota !== undefined) set('cpu', 'quota', int(o.cpuQuota));
  if (o.cpuPeriod !== undefined) set('cpu', 'period', int(o.cpuPeriod));
  if (o.cpuShare !== undefined) set('cpu', 'shares', int(o.cpuShare));
  if (o.cpuRtPeriod !== undefined) set('cpu', 'realtimePeriod', int(o.cpuRtPeriod));
  if (o.cpuRtRuntime !== undefined) set('cpu', 'realtimeRuntime', int(o.cpuRtRuntime));
  if (o.cpusetCpus !== undefined) set('cpu', 'cpus', o.cpusetCpus);
  if (o.cpusetMems !== undefined) set('cpu', 'mems', o.cpusetMems);
  if (o.pidsLimit !== undefined) set('pids', 'limit', int(o.pidsLimit));
  if (o.blkioWeight !== undefined) set('blockIO', 'weight', int(o.blkioWeight));
  return r;
}

export function registerUpdate(program: Command, wrap: Wrap): void {
  program
    .command('update')
    .description('change the resource limits of a running container')
    .argument('<container-id>')
    .option('-r, --resources <file>', 'a linux.resources JSON file, or - for stdin')
    .option('--memory <size>', 'memory limit')
    .option('--memory-swap <size>', 'memory plus swap limit')
    .option('--memory-reservation <size>', 'memory soft limit')
    .option('--kernel-memory <size>', 'ignored on cgroup v2')
    .option('--cpu-quota <us>', 'CPU time per period')
    .option('--cpu-period <us>', 'CPU period')
    .option('--cpu-share <shares>', 'CPU shares (weight)')
    .option('--cpu-rt-period <us>', 'realtime period (not on cgroup v2)')
    .option('--cpu-rt-runtime <us>', 'realtime runtime (not on cgroup v2)')
    .option('--cpuset-cpus <list>', 'CPUs to use')
    .option('--cpuset-mems <list>', 'memory nodes to use')
    .option('--pids-limit <n>', 'maximum number of processes')
    .option('--blkio-weight <w>', 'block IO weight (10-1000)')
    .action(
      wrap('update', async (id: string, o: UpdateFlags, cmd: Command) => {
        const { update } = await import('../../runtime/ops/update');
        const resources = o.resources
          ? JSON.parse(fs.readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8'))
          : flagsToResources(o);
        await update(globals(cmd).root, id, resources);
      }),
    );
}
