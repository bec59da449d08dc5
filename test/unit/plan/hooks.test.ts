// Where the plan puts the hooks: createRuntime's sync and createContainer's OP_HOOKs before pivot_root,
// startContainer's after start released the init; and OP_HOOK's code agrees with native/plan.h.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/bundle/spec';
import { buildCreatePlan } from '../../../src/runtime/plan/build';
import { Op } from '../../../src/runtime/plan/ops';

const REPO = join(__dirname, '..', '..', '..');

function plan(hooks: Record<string, unknown>) {
  const spec = defaultSpec({ args: ['true'] });
  spec.process!.terminal = false;
  (spec as { hooks?: unknown }).hooks = hooks;
  return buildCreatePlan(spec as never, { id: 'x', rootfs: '/nonexistent', preserveFds: 0, stateDirFd: 3 }).steps;
}

const h = (path: string) => ({ path, args: ['a0', 'a1'], env: ['K=V'], timeout: 7 });

describe('hook steps in the create plan', () => {
  it('no hooks, no hook steps', () => {
    const steps = plan({});
    expect(steps.filter((s) => s.op === 'HOOK' || s.op === 'SYNC')).toEqual([]);
  });

  it('prestart/createRuntime sync and createContainer hooks come after the mounts, before pivot_root', () => {
    const steps = plan({ prestart: [h('/p')], createRuntime: [h('/r')], createContainer: [h('/c0'), h('/c1')] });
    const ops = steps.map((s) => s.op);
    const pivot = ops.indexOf('PIVOT_ROOT');
    const lastMount = ops.lastIndexOf('MOUNT');
    const sync = steps.findIndex((s) => s.op === 'SYNC' && (s.args[0] as { str: string }).str === 'createRuntime');
    const state = steps.findIndex((s) => s.op === 'SYNC' && (s.args[0] as { str: string }).str === 'state');
    const hooks = steps.map((s, i) => [s, i] as const).filter(([s]) => s.op === 'HOOK');
    expect(lastMount).toBeLessThan(sync);
    expect(sync).toBeLessThan(state);
    expect(hooks.map(([s]) => s.where)).toEqual(['hooks.createContainer[0]', 'hooks.createContainer[1]']);
    expect(hooks[0]![1]).toBe(state + 1);
    expect(hooks[1]![1]).toBeLessThan(pivot);
    expect(hooks[0]![0].args).toEqual([{ str: '/c0' }, { strv: ['a0', 'a1'] }, { strv: ['K=V'] }, { u64: 7 }]);
  });

  it('startContainer hooks run right after WAIT_START; args default to the path, env to the runtime\'s, no timeout is 0', () => {
    const steps = plan({ startContainer: [{ path: '/s' }] });
    const ops = steps.map((s) => s.op);
    const i = ops.indexOf('HOOK');
    expect(ops[i - 1]).toBe('WAIT_START');
    expect(ops.indexOf('EXEC')).toBeGreaterThan(i);
    expect(steps[i]!.where).toBe('hooks.startContainer[0]');
    expect(steps[i]!.args).toEqual([{ str: '/s' }, { strv: ['/s'] }, { strv: expect.arrayContaining([`PATH=${process.env.PATH}`]) }, { u64: 0 }]);
    expect(ops.filter((o) => o === 'SYNC')).toEqual([]);
  });

  it('poststart and poststop are not the init\'s business', () => {
    expect(plan({ poststart: [h('/a')], poststop: [h('/b')] }).filter((s) => s.op === 'HOOK' || s.op === 'SYNC')).toEqual([]);
  });

  it('OP_HOOK has the same code in native/plan.h', () => {
    const header = readFileSync(join(REPO, 'native/plan.h'), 'utf8');
    expect(Number(/\bOP_HOOK\s*=\s*(\d+)/.exec(header)?.[1])).toBe(Op.HOOK);
  });
});
