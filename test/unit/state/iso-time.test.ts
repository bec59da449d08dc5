import { expect, it } from 'vitest';
import { isoTime } from '../../../src/runtime/state/iso-time';

it('formats exactly as Date#toISOString', () => {
  const fixed = [0, 1, 999, 86399999, 86400000, 951782400000, 951868799999, 4107542400000, 253402300799999, 1764569999123];
  // Leap days and year ends from 1970 to 2400, and random instants up to 9999.
  for (const y of [1972, 2000, 2024, 2100, 2400]) fixed.push(Date.UTC(y, 1, 29, 23, 59, 59, 999), Date.UTC(y, 11, 31, 23, 59, 59, 999), Date.UTC(y, 2, 1));
  for (let i = 0; i < 20000; i++) fixed.push(Math.floor(Math.random() * 253402300800000));
  for (const ms of fixed) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  // Outside 1970-9999: Date itself.
  expect(isoTime(-1)).toBe(new Date(-1).toISOString());
});
