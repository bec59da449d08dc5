// What a create killed half-way leaves (a state directory without state.json, its default cgroup)
// goes with `delete --force`; `state` and `list` do not show it as a container.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerCgroupDir, testRoot, tsrunc, uniqueId } from '../helpers';

describe('remains of a killed create', () => {
  it('delete --force removes the state directory and the default cgroup', async () => {
    const id = uniqueId('half');
    const stateDir = join(testRoot(), id);
    const cgroupDir = containerCgroupDir(id);
    mkdirSync(stateDir);
    mkdirSync(cgroupDir, { recursive: true });
    expect(existsSync(cgroupDir)).toBe(true);
    expect((await tsrunc(['list', '-q'])).stdout).not.toContain(id);
    expect((await tsrunc(['state', id])).code).not.toBe(0);
    const r = await tsrunc(['delete', '--force', id]);
    expect(r.code).toBe(0);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(cgroupDir)).toBe(false);
  });
});
