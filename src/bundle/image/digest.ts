// sha256 digests of blobs: every blob read from an image is checked against the digest that names it.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

export { digestHex } from './digest-hex';

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return 'sha256:' + hash.digest('hex');
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function verifyDigest(actual: string, expected: string, what: string): void {
  if (actual !== expected) throw new Error(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
}
