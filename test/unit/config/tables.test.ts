import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, capabilityMask, capLastCap } from '../../../src/runtime/config/capabilities';
import { NAMESPACES, namespaceFlag, namespaceProcName } from '../../../src/runtime/config/namespaces';
import { rlimitNumber } from '../../../src/runtime/config/rlimits';

describe('capabilities', () => {
  it('numbers 0..40 without gaps', () => {
    expect(Object.values(CAPABILITIES).sort((a, b) => a - b)).toEqual([...Array(41).keys()]);
    expect(CAPABILITIES.CAP_SYS_ADMIN).toBe(21);
    expect(CAPABILITIES.CAP_CHECKPOINT_RESTORE).toBe(40);
  });
  it('cap_last_cap from the kernel', () => {
    expect(capLastCap()).toBe(Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')));
  });
  it('mask', () => {
    expect(capabilityMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE'], 'x')).toBe((1n << 5n) | (1n << 10n));
    expect(capabilityMask([], 'x')).toBe(0n);
    expect(() => capabilityMask(['CAP_KILL', 'CAP_NOPE'], 'process.capabilities.bounding')).toThrow(
      /^process\.capabilities\.bounding\[1\]: /,
    );
  });
});

describe('rlimits', () => {
  it('numbers', () => {
    expect(rlimitNumber('RLIMIT_NOFILE')).toBe(7);
    expect(rlimitNumber('RLIMIT_RTTIME')).toBe(15);
    expect(() => rlimitNumber('RLIMIT_X', 'process.rlimits[0].type')).toThrow(/^process\.rlimits\[0\]\.type: /);
  });
});

describe('namespaces', () => {
  it('flags and /proc/self/ns names', () => {
    expect(namespaceFlag('user')).toBe(0x10000000);
    expect(namespaceFlag('network')).toBe(0x40000000);
    expect(namespaceFlag('time')).toBe(0x80);
    expect(namespaceProcName('mount')).toBe('mnt');
    expect(namespaceProcName('network')).toBe('net');
    for (const info of Object.values(NAMESPACES)) expect(fs.existsSync(`/proc/self/ns/${info.procName}`)).toBe(true);
    expect(() => namespaceFlag('foo', 'linux.namespaces[2].type')).toThrow(/^linux\.namespaces\[2\]\.type: /);
  });
});
