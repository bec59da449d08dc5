// native/plan.h and src/runtime/plan/ops.ts must agree on every op code and OP_MOUNT flag.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MountFlag, Op } from '../../../src/runtime/plan/ops';

const header = readFileSync(join(__dirname, '..', '..', '..', 'native', 'plan.h'), 'utf8');

describe('plan op codes', () => {
  it('every OP_* of plan.h is in ops.ts with the same value, and the other way round', () => {
    const inHeader = Object.fromEntries(
      [...header.matchAll(/^\s*OP_([A-Z_]+) = (\d+),/gm)].filter((m) => m[1] !== 'MAX').map((m) => [m[1], Number(m[2])]),
    );
    expect(inHeader).toEqual({ ...Op });
  });

  it('the MOUNT_F_* flags agree', () => {
    const names: Record<string, keyof typeof MountFlag> = {
      BIND: 'BIND', FILE: 'FILE', RECURSIVE: 'RECURSIVE', CGROUP2: 'CGROUP2', IDMAP_REC: 'IDMAP_RECURSIVE', PREPARED: 'PREPARED',
    };
    const inHeader = Object.fromEntries([...header.matchAll(/^#define MOUNT_F_([A-Z_0-9]+)\s+(0x[0-9a-f]+)/gm)].map((m) => [names[m[1]!], Number(m[2])]));
    expect(inHeader).toEqual({ ...MountFlag });
  });
});
