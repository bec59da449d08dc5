// The shim launcher (native/shimlaunch, C) decides `start`'s group and socket name without Node; where it
// decides, it must decide exactly as the Node shim (groupOf + shimSocketAddress after JSON.parse), and
// whatever it does not understand it must leave to Node ("F"). Compiled here with the system's cc from
// the launcher's own sources, and run over fixed cases and seeded mutations of them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutations } from '../../helpers/mutate';
import { groupOf } from '../../../src/shim/service/cmd-start';
import { shimSocketAddress, socketPath } from '../../../src/shim/ttrpc/address';

const SRC = join(import.meta.dirname, '../../../native/shimlaunch');
const ADDRESS = '/run/containerd/containerd.sock';
const NS = 'k8s.io';
const ID = 'c1';
let dir = '';
let bin = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsrunc-launcher-naming-'));
  bin = join(dir, 'naming');
  const sources = ['group.c', 'sha256.c', 'address.c', 'util.c'].map((f) => join(SRC, f));
  const r = spawnSync('cc', ['-std=gnu11', '-O1', '-Wall', '-I', SRC, '-o', bin, join(import.meta.dirname, 'launcher-naming.c'), ...sources], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The launcher's answer per document: null for "left to Node", else [group, socket path]. */
function launcher(docs: (string | Buffer)[], address = ADDRESS): ([string, string] | null)[] {
  const files = docs.map((d, i) => {
    const f = join(dir, `c${i}.json`);
    writeFileSync(f, d);
    return f;
  });
  const out: ([string, string] | null)[] = [];
  // (in chunks: argv length)
  for (let i = 0; i < files.length; i += 500) {
    const r = spawnSync(bin, [address, NS, ID, ...files.slice(i, i + 500)], { encoding: 'latin1' });
    expect(r.status, r.stderr).toBe(0);
    for (const line of r.stdout.split('\n').slice(0, -1)) {
      if (line === 'F') out.push(null);
      else {
        const [g, s] = line.slice(2).split('\t');
        out.push([Buffer.from(g!, 'latin1').toString('utf8'), s!]);
      }
    }
  }
  expect(out).toHaveLength(docs.length);
  return out;
}

/** The Node shim's answer, or null where it throws (malformed JSON). */
function node(doc: string | Buffer, address = ADDRESS): [string, string] | null {
  let spec: { annotations?: Record<string, string> };
  try {
    spec = JSON.parse(doc.toString()) as typeof spec;
  } catch {
    return null;
  }
  const group = groupOf(ID, spec.annotations, 'sandbox');
  return [String(group), socketPath(shimSocketAddress(address, NS, group))];
}

const cfg = (annotations: unknown, extra = '') => `{"ociVersion":"1.0.2","process":{"args":["sh"],"env":["A=1"]},"root":{"path":"rootfs"}${extra},"annotations":${JSON.stringify(annotations)}}`;

describe('shim launcher: group and socket name', () => {
  it('decides the common cases itself, exactly as the Node shim', () => {
    const docs = [
      '{}',
      cfg({}),
      cfg({ 'io.kubernetes.cri.sandbox-id': 'pod-1' }),
      cfg({ 'io.kubernetes.cri.sandbox-id': 'pod-1', 'io.containerd.runc.v2.group': 'grp' }),
      cfg({ 'io.containerd.runc.v2.group': '', 'io.kubernetes.cri.sandbox-id': 'pod-2' }),
      cfg({ 'io.kubernetes.cri.sandbox-id': '' }),
      cfg(null),
      cfg(['io.kubernetes.cri.sandbox-id']),
      cfg('io.kubernetes.cri.sandbox-id'),
      cfg({ other: { 'io.kubernetes.cri.sandbox-id': 'nested' } }),
      // duplicate keys and a duplicate annotations object: the last one wins, as in JSON.parse
      '{"annotations":{"io.kubernetes.cri.sandbox-id":"a","io.kubernetes.cri.sandbox-id":"b"}}',
      '{"annotations":{"io.kubernetes.cri.sandbox-id":"a"},"annotations":{"x":"y"}}',
      '{"annotations":{"io.kubernetes.cri.sandbox-id":"a"},"annotations":{"io.kubernetes.cri.sandbox-id":"c"}}',
      '{"x":{"annotations":{"io.kubernetes.cri.sandbox-id":"deep"}}}',
      // escapes elsewhere, numbers, literals, whitespace
      ' \n\t{"a":"\\u00e9\\n\\"","n":[-0.5e+3,0,1E2,true,false,null,{}],"annotations":{"k":"\\/"} } \r\n',
      cfg({ 'io.kubernetes.cri.sandbox-id': 'a/b' }),
      '{"annotations":{"io.kubernetes.cri.sandbox-id":"x"}, "process": {"args": ["\\u0041"]}}',
    ];
    const got = launcher(docs);
    docs.forEach((d, i) => {
      expect(got[i], d).not.toBeNull();
      expect(got[i], d).toEqual(node(d));
    });
  });

  it('leaves to Node what it does not read with certainty', () => {
    const docs = [
      '',
      '[]',
      '"x"',
      '\ufeff{}',
      '{',
      '{}x',
      '{"a":1,}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":"\u0001"}',
      '{"a":"\\x"}',
      '{"a":"\\u12"}',
      '{"a":tru}',
      '{"a" 1}',
      '{a:1}',
      // a key of ours or "annotations" spelled with escapes, escaped or non-ASCII values, non-strings
      '{"annotations":{"io.kubernetes.cri.sandbox\\u002did":"p"}}',
      '{"annot\\u0061tions":{"io.kubernetes.cri.sandbox-id":"p"}}',
      '{"annotations":{"io.kubernetes.cri.sandbox-id":"p\\u0041"}}',
      cfg({ 'io.kubernetes.cri.sandbox-id': 'pöd' }),
      '{"annotations":{"io.kubernetes.cri.sandbox-id":7}}',
      '{"annotations":{"io.kubernetes.cri.sandbox-id":{"a":1}}}',
      // a key path.join would change
      cfg({ 'io.kubernetes.cri.sandbox-id': '../x' }),
      cfg({ 'io.kubernetes.cri.sandbox-id': 'a//b' }),
      cfg({ 'io.kubernetes.cri.sandbox-id': 'a/' }),
      cfg({ 'io.kubernetes.cri.sandbox-id': '.' }),
      `${'['.repeat(300)}${']'.repeat(300)}`,
      `{"a":${'['.repeat(300)}${']'.repeat(300)}}`,
    ];
    expect(launcher(docs)).toEqual(docs.map(() => null));
    // An address path.join would change is Node's too.
    expect(launcher(['{}'], '/run/containerd//containerd.sock')).toEqual([null]);
    expect(launcher(['{}'], '/run/containerd/containerd.sock')[0]).toEqual(node('{}'));
  });

  it('seeded mutations: wherever the launcher decides, it decides as Node does', () => {
    const bases = [
      cfg({ 'io.kubernetes.cri.sandbox-id': 'pod-1', 'io.containerd.runc.v2.group': 'g' }),
      '{"annotations":{"io.kubernetes.cri.sandbox-id":"a","x":[1,2.5e3,{"y":null}]},"z":"\\n"}',
    ];
    const alphabet = '{}[]:,"\\ aeu0123-.+ntfl\u00e9\n';
    const docs = mutations(bases, alphabet, 1500, 0x5eed);
    const got = launcher(docs);
    let decided = 0;
    docs.forEach((d, i) => {
      if (got[i] === null) return;
      decided++;
      expect(got[i], d).toEqual(node(d));
    });
    // (most single-byte mutations break the JSON; enough of them stay valid to be meaningful)
    expect(decided).toBeGreaterThan(100);
  });
});
