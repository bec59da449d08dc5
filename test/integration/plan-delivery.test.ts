// Issue 13: the plan travels in a memfd, so any config the kernel can exec works (a ~250 KB env used to
// fail with "sendmsg: Message too long"); past the kernel's own limit the error says so.
import { describe, expect, it } from 'vitest';
import { makeBundle, tsrunc, uniqueId } from '../helpers';

/** `count` variables V0..V{count-1}, each `size` bytes long in all. */
function bigEnv(count: number, size: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `V${i}=`;
    return name + 'x'.repeat(size - name.length);
  });
}

const COUNT_SCRIPT = 'env | grep -c "^V[0-9]*=xxxx"; echo ${#V0}';

describe('large configs', () => {
  it('a 1 MB env reaches the program, for run and for exec', async () => {
    const env = bigEnv(1024, 1024);
    const bundle = makeBundle({ args: ['sh', '-c', `${COUNT_SCRIPT}; sleep 30`], mutate: (spec) => void spec.process!.env!.push(...env) });
    const id = uniqueId('big');
    try {
      const run = await tsrunc(['run', '-d', '--bundle', bundle.dir, id]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      // exec takes the container's env, plus 256 KB more through -e.
      const extra = bigEnv(256, 1024).map((e) => e.replace(/^V/, 'W'));
      const r = await tsrunc(['exec', ...extra.flatMap((e) => ['-e', e]), id, 'sh', '-c', `${COUNT_SCRIPT}; env | grep -c "^W[0-9]*="`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['1024', '1021', '256']);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  }, 60_000);

  it('an env beyond what execve takes (ARG_MAX) fails with one clear line', async () => {
    const bundle = makeBundle({ args: ['true'], mutate: (spec) => void spec.process!.env!.push(...bigEnv(3 * 1024, 1024)) });
    const id = uniqueId('huge');
    try {
      const r = await tsrunc(['run', '--bundle', bundle.dir, id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^tsrunc: run: process\.args: exec \S*\/true: process\.args and process\.env are larger than the kernel allows for execve \(argument list too long\)\n$/);
    } finally {
      await tsrunc(['delete', '--force', id]);
      bundle.remove();
    }
  }, 60_000);
});
