// The create, exec and run bundles are stored wrapped for the code cache's loader (scripts/build.mjs):
// both CLIs load them through it, the fast entry and commander's (dist/lib/full.cjs).
import { describe, expect, it } from 'vitest';
import { alive, makeBundle, sh, state, tsruncOk, uniqueId } from '../helpers';

describe('create through either CLI path', () => {
  it('commander (an attached short option value, which the fast parser leaves to it) creates and execs', async () => {
    const bundle = makeBundle({ args: sh('sleep 1000') });
    const id = uniqueId('load');
    await tsruncOk(['create', `-b${bundle.dir}`, id]);
    try {
      const st = await state(id);
      expect(st.status).toBe('created');
      expect(alive(st.pid!)).toBe(true);
      await tsruncOk(['start', id]);
      // `-u0` goes to commander as well: exec's bundle through full.cjs.
      expect((await tsruncOk(['exec', '-u0', id, '/bin/echo', 'hi'])).trim()).toBe('hi');
    } finally {
      await tsruncOk(['delete', '--force', id]);
    }
  });
});
