// kill's signal names: the common ones come from a table of their own (no node:os on the hot path);
// every name must give the number the kernel's table (node:os) gives, in any spelling.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseSignal } from '../../../src/runtime/ops/kill';

describe('parseSignal', () => {
  it('gives every signal name the number of node:os, with or without SIG, in any case', () => {
    for (const [full, n] of Object.entries(constants.signals)) {
      const short = full.slice(3);
      expect([parseSignal(full), parseSignal(short), parseSignal(short.toLowerCase())]).toEqual([n, n, n]);
    }
  });

  it('takes numbers and refuses what is no signal', () => {
    expect(parseSignal(undefined)).toBe(15);
    expect(parseSignal('9')).toBe(9);
    expect(() => parseSignal('0')).toThrow(/invalid signal/);
    expect(() => parseSignal('NOPE')).toThrow(/unknown signal "NOPE"/);
  });
});
