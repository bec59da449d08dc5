// sha256 digests of blobs: every blob read from an image is checked against the digest that names it.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The hex part of a sha256 digest; throws on any other algorithm or a malformed digest. */
export function digestHex(digest: string, where: string): string {
  if (!DIGEST.test(digest)) throw new Error(`${where}: unsupported or malformed digest "${digest}" (sha256 only)`);
  return digest.slice(7);
}

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
