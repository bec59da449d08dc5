import { ConfigError } from '../errors';
import { checkArray, checkInt, checkObject, U32_MAX } from './check';

/** uid/gid mappings: {containerID, hostID, size>0}, ranges within 32 bits, no overlapping container ranges. */
export function validateIdMappings(v: unknown, where: string): void {
  if (v === undefined) return;
  checkArray(v, where);
  const ranges: [number, number][] = [];
  v.forEach((m, i) => {
    const at = `${where}[${i}]`;
    checkObject(m, at);
    checkInt(m.containerID, `${at}.containerID`, 0, U32_MAX - 1);
    checkInt(m.hostID, `${at}.hostID`, 0, U32_MAX - 1);
    checkInt(m.size, `${at}.size`, 0, U32_MAX);
    if (m.size === 0) throw new ConfigError(`${at}.size`, 'must be greater than 0');
    if (m.containerID + m.size > U32_MAX || m.hostID + m.size > U32_MAX)
      throw new ConfigError(`${at}.size`, 'the range goes beyond 2^32-1');
    const start = m.containerID;
    const end = start + m.size;
    if (ranges.some(([s, e]) => start < e && s < end)) throw new ConfigError(`${at}.containerID`, 'overlaps an earlier mapping');
    ranges.push([start, end]);
  });
}
