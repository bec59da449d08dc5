// The helper is cloned with CLONE_VM|CLONE_VFORK (native/addon/spawn.cc): every signal is blocked around
// the clone so that none of Node's handlers can run in the child. What the container's programs must
// see: nothing blocked and no handler or ignore of Node's (a fork+exec gave exactly that).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeBundle, tsrunc, tsruncOk, uniqueId, runOk } from '../helpers';

const SIGNALS = ['grep', '-E', '^Sig(Blk|Cgt|Ign)', '/proc/self/status'];
const CLEAN = 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n';

let id = '';

beforeAll(async () => {
  const bundle = makeBundle({ args: ['sleep', '100000'] });
  id = uniqueId('spawnsig');
  await tsruncOk(['create', '--bundle', bundle.dir, id]);
  await tsruncOk(['start', id]);
});

afterAll(async () => {
  if (id) await tsrunc(['delete', '--force', id]);
});

it("the container's program starts with no signal blocked, caught or ignored", async () => {
  expect(await runOk(undefined, SIGNALS)).toBe(CLEAN);
});

it('an exec starts with no signal blocked, caught or ignored', async () => {
  const r = await tsrunc(['exec', id, ...SIGNALS]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(CLEAN);
});
