// The shim launcher (native/shimlaunch/options.c, C) reads the shim's config file ({"group", "root"}, named by
// runtimeoptions.v1.Options) to choose `start`'s grouping without Node; where it decides, it must decide as
// the Node shim's shimConfig does, and whatever Node would reject it must leave to Node ("F"). Compiled with
// the system's cc from the launcher's sources, run over fixed cases and seeded mutations.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutations } from '../../helpers/mutate';
import { shimConfig } from '../../../src/shim/service/options';

const SRC = join(import.meta.dirname, '../../../native/shimlaunch');
let dir = '';
let bin = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsrunc-launcher-options-'));
  bin = join(dir, 'options');
  const sources = ['options.c', 'group.c', 'pb.c', 'util.c'].map((f) => join(SRC, f));
  const r = spawnSync('cc', ['-std=gnu11', '-O1', '-Wall', '-I', SRC, '-o', bin, join(import.meta.dirname, 'launcher-options.c'), ...sources], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Answer = 'sandbox' | 'namespace' | null;

function launcher(docs: string[]): Answer[] {
  const files = docs.map((d, i) => {
    const f = join(dir, `c${i}.json`);
    writeFileSync(f, d);
    return f;
  });
  const out: Answer[] = [];
  for (let i = 0; i < files.length; i += 500) {
    const r = spawnSync(bin, files.slice(i, i + 500), { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const line of r.stdout.split('\n').slice(0, -1)) out.push(line === 'F' ? null : (line as Answer));
  }
  expect(out).toHaveLength(docs.length);
  return out;
}

/** The Node shim's grouping for a config body, or null where it throws. */
function node(doc: string): Answer {
  const value = new BinaryWriter().tag(3, WireType.LengthDelimited).string(doc).finish();
  try {
    return shimConfig(create(AnySchema, { typeUrl: 'runtimeoptions.v1.Options', value })).group;
  } catch {
    return null;
  }
}

describe('shim launcher: the config file of runtime options', () => {
  it('decides the common cases itself, exactly as the Node shim', () => {
    const docs = [
      '{}',
      '{"group":"namespace"}',
      '{"group":"sandbox"}',
      '{"root":"/run/tsrunc-x","group":"namespace"}',
      '{"root":"/var/lib/x"}',
      ' {\n "group" : "namespace" , "other": [1, {"group": "sandbox"}] }\n',
      '{"group":"sandbox","group":"namespace"}',
      '{"x":"\\u00e9","group":"namespace"}',
    ];
    const got = launcher(docs);
    docs.forEach((d, i) => {
      expect(got[i], d).not.toBeNull();
      expect(got[i], d).toBe(node(d));
    });
  });

  it('leaves to Node what Node rejects or it cannot read with certainty', () => {
    const docs = [
      '',
      '{"group":"pod"}',
      '{"group":""}',
      '{"group":null}',
      '{"group":1}',
      '{"root":"relative"}',
      '{"root":""}',
      '{"root":7}',
      '{"gr\\u006fup":"namespace"}',
      '{"group":"n\\u0061mespace"}',
      '{"group":"namespace"',
      'null',
      '[]',
      '\ufeff{}',
    ];
    expect(launcher(docs)).toEqual(docs.map(() => null));
  });

  it('seeded mutations: wherever the launcher decides, it decides as Node does', () => {
    const bases = ['{"root":"/run/tsrunc-x","group":"namespace"}', '{"group":"sandbox","x":[1,2.5e3,{"y":null}]}'];
    const alphabet = '{}[]:,"\\ /aegmnpsu0123-.\u00e9\n';
    const docs = mutations(bases, alphabet, 1500, 0xc0f1);
    const got = launcher(docs);
    let decided = 0;
    docs.forEach((d, i) => {
      const n = node(d);
      if (n === null) expect(got[i], d).toBeNull();
      if (got[i] === null) return;
      decided++;
      expect(got[i], d).toBe(n);
    });
    expect(decided).toBeGreaterThan(100);
  });
});
