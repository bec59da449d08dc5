import fs from 'node:fs';
import path from 'node:path';
import type { LinuxResources } from '../cgroups/types';
import { resourceWrites } from '../cgroups/resources';
import { RuntimeError } from '../errors';
import { containerStatus } from '../state/container-status';
import { StateStore } from '../state/store';
import { recordCgroup } from './container-cgroup';

/**
 * `update`: new resource limits for a live container. Everything is validated before the first
 * write, and a write that fails puts back what was already changed: a failed update changes nothing.
 */
export async function update(root: string, id: string, resources: LinuxResources): Promise<void> {
  const store = new StateStore(root);
  const dir = await store.lock(id);
  try {
    const record = dir.read();
    if (containerStatus(record, dir.path) === 'stopped') throw new RuntimeError('cannot update a stopped container');
    const cgroup = recordCgroup(record);
    if (!cgroup) throw new RuntimeError('the container has no cgroup');
    const writes = resourceWrites(resources, 'resources');
    cgroup.enableFor(resources, 'resources');
    const before = new Map<string, string>();
    for (const w of writes) {
      for (const file of [w.file, w.fallback?.file]) {
        if (!file || before.has(file)) continue;
        try {
          before.set(file, fs.readFileSync(path.join(cgroup.dir, file), 'utf8').trim());
        } catch {
          // absent file: nothing to restore
        }
      }
    }
    try {
      cgroup.apply(resources, 'resources');
    } catch (err) {
      for (const [file, value] of before) {
        try {
          fs.writeFileSync(path.join(cgroup.dir, file), value);
        } catch {
          // best effort: the value may not be writable back verbatim (e.g. io.max lines)
        }
      }
      throw err;
    }
  } finally {
    dir.release();
  }
}
