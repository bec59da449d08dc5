// Capabilities as the container's process sees them: all five sets, for root and for a non-root user.
import { describe, expect, it } from 'vitest';
import { makeBundle, runContainer, runOk, statusField, tsrunc, uniqueId, type Spec } from '../helpers';

const CAP = { CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_KILL: 5, CAP_SETUID: 7, CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21 } as const;
type CapName = keyof typeof CAP;

function mask(names: CapName[]): string {
  const v = names.reduce((m, n) => m | (1n << BigInt(CAP[n])), 0n);
  return v.toString(16).padStart(16, '0');
}

/** The Cap* lines of /proc/self/status as a map. */
function caps(status: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of status.split('\n')) {
    const m = /^(Cap\w+):\s+([0-9a-f]+)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function setCaps(sets: Partial<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', CapName[]>>) {
  return (spec: Spec) => {
    spec.process!.capabilities = sets;
  };
}

/** /proc/1/status of a created container's init (it has not exec'd yet), read by an exec'd process. */
async function initStatus(mutate: (spec: Spec) => void): Promise<string> {
  const bundle = makeBundle({ args: ['sleep', '10'], mutate });
  const id = uniqueId('caps');
  try {
    const c = await tsrunc(['create', '--bundle', bundle.dir, id]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const r = await tsrunc(['exec', id, 'cat', '/proc/1/status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  } finally {
    await tsrunc(['delete', '--force', id]);
    bundle.remove();
  }
}

describe('capabilities', () => {
  it('root: the init has all five sets exactly as configured (read before it execs)', async () => {
    const sets = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'] as CapName[],
      effective: ['CAP_CHOWN', 'CAP_KILL'] as CapName[],
      permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
      inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
      ambient: ['CAP_KILL'] as CapName[],
    };
    const c = caps(await initStatus(setCaps(sets)));
    expect(c).toEqual({
      CapBnd: mask(sets.bounding),
      CapEff: mask(sets.effective),
      CapPrm: mask(sets.permitted),
      CapInh: mask(sets.inheritable),
      CapAmb: mask(sets.ambient),
    });
  });

  it("root after exec: the kernel's root rule (P = E = bounding | inheritable), capped by no_new_privs", async () => {
    const sets = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
      effective: ['CAP_CHOWN'] as CapName[],
      permitted: ['CAP_CHOWN'] as CapName[],
      inheritable: ['CAP_NET_BIND_SERVICE'] as CapName[],
      ambient: [] as CapName[],
    };
    for (const nnp of [false, true]) {
      const r = await runContainer(
        (spec) => {
          setCaps(sets)(spec);
          spec.process!.noNewPrivileges = nnp;
        },
        ['cat', '/proc/self/status'],
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const c = caps(r.stdout);
      expect(c.CapBnd).toBe(mask(sets.bounding));
      // With no_new_privs an exec never gains permitted capabilities.
      expect(c.CapPrm).toBe(nnp ? mask(sets.permitted) : mask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']));
      expect(c.CapEff).toBe(c.CapPrm);
      expect(c.CapInh).toBe(mask(sets.inheritable));
      expect(c.CapAmb).toBe(mask([]));
      expect(r.stdout).toMatch(new RegExp(`^NoNewPrivs:\\s+${nnp ? 1 : 0}$`, 'm'));
    }
  });

  it('non-root (uid 1000): the init has all five sets exactly as configured after the uid change', async () => {
    const sets = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'] as CapName[],
      effective: ['CAP_KILL'] as CapName[],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'] as CapName[],
      inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
      ambient: ['CAP_NET_BIND_SERVICE'] as CapName[],
    };
    const status = await initStatus((spec) => {
      setCaps(sets)(spec);
      spec.process!.user = { uid: 1000, gid: 1000 };
    });
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(caps(status)).toEqual({
      CapBnd: mask(sets.bounding),
      CapEff: mask(sets.effective),
      CapPrm: mask(sets.permitted),
      CapInh: mask(sets.inheritable),
      CapAmb: mask(sets.ambient),
    });
  });

  it('non-root (uid 1000): all five sets exactly as configured, ambient caps survive the uid change', async () => {
    const sets = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'] as CapName[],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'] as CapName[],
      inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
      ambient: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'] as CapName[],
    };
    const r = await runContainer(
      (spec) => {
        setCaps(sets)(spec);
        spec.process!.user = { uid: 1000, gid: 1000 };
      },
      ['cat', '/proc/self/status'],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const c = caps(r.stdout);
    expect(r.stdout).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    // A non-root exec without file caps keeps only the ambient set: P' = E' = ambient.
    expect(c.CapBnd).toBe(mask(sets.bounding));
    expect(c.CapInh).toBe(mask(sets.inheritable));
    expect(c.CapAmb).toBe(mask(sets.ambient));
    expect(c.CapPrm).toBe(mask(sets.ambient));
    expect(c.CapEff).toBe(mask(sets.ambient));
  });

  it('non-root without ambient caps has none after exec', async () => {
    const r = await runContainer(
      (spec) => {
        setCaps({ bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] })(spec);
        spec.process!.user = { uid: 1000, gid: 1000 };
      },
      ['cat', '/proc/self/status'],
    );
    expect(r.code).toBe(0);
    const c = caps(r.stdout);
    expect(c.CapBnd).toBe(mask(['CAP_KILL']));
    expect(c.CapPrm).toBe(mask([]));
    expect(c.CapEff).toBe(mask([]));
  });

  it('an ambient CAP_NET_BIND_SERVICE lets uid 1000 bind port 80; without it, it cannot', async () => {
    const sets: CapName[] = ['CAP_NET_BIND_SERVICE'];
    // Readiness from the kernel: the listening socket in /proc/net/tcp{,6} (BOUND), or nc gone (FAILED).
    const script =
      'nc -l -p 80 & p=$!; i=0; while [ $i -lt 600 ]; do ' +
      "if grep -qE ':0050 [0-9A-F:]+ 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then echo BOUND; kill $p; exit 0; fi; " +
      "case $(cut -d' ' -f3 /proc/$p/stat 2>/dev/null) in Z|'') echo FAILED; exit 0;; esac; " +
      'sleep 0.05; i=$((i+1)); done; echo TIMEOUT';
    const withCap = await runContainer(
      (spec) => {
        setCaps({ bounding: sets, effective: sets, permitted: sets, inheritable: sets, ambient: sets })(spec);
        spec.process!.user = { uid: 1000, gid: 1000 };
      },
      ['sh', '-c', script],
    );
    expect(withCap.stdout.trim()).toBe('BOUND');
    const without = await runContainer(
      (spec) => {
        setCaps({ bounding: sets, effective: sets, permitted: sets, inheritable: sets })(spec);
        spec.process!.user = { uid: 1000, gid: 1000 };
      },
      ['sh', '-c', script],
    );
    expect(without.stdout.trim()).toBe('FAILED');
  });

  it('the default capabilities: AUDIT_WRITE, KILL, NET_BIND_SERVICE and no others', async () => {
    const out = await runOk(undefined, ['cat', '/proc/self/status']);
    expect(statusField(out, 'CapBnd')).toBe('0000000020000420');
    expect(statusField(out, 'CapEff')).toBe('0000000020000420');
  });

  it('an unknown capability name is a warning naming the JSON path; the container runs (config.md, issue 9)', async () => {
    const r = await runContainer(
      (spec) => {
        spec.process!.capabilities!.effective = ['CAP_KILL', 'CAP_FLY'];
      },
      ['sh', '-c', 'grep CapEff /proc/self/status'],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: process\.capabilities\.effective\[1\]: .*CAP_FLY/);
    const eff = BigInt(`0x${r.stdout.trim().split('\t')[1]}`);
    expect((eff >> BigInt(CAP.CAP_KILL)) & 1n).toBe(1n);
  });
});
