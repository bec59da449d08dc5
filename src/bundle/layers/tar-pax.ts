// tar-stream decodes and encodes pax records as UTF-8 text, which mangles binary xattr values such as
// security.capability. These replacements keep `SCHILY.xattr.*` values as latin1 strings (one char per
// byte) and everything else as UTF-8, with record lengths counted in bytes as pax requires.
// @ts-expect-error: tar-stream's headers module has no type declarations
import headers from 'tar-stream/headers.js';

const XATTR = 'SCHILY.xattr.';

function record(key: string, value: string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value, key.startsWith(XATTR) ? 'latin1' : 'utf8'), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Buffer {
  const out: Buffer[] = [];
  if (opts.name) out.push(record('path', opts.name));
  if (opts.linkname) out.push(record('linkpath', opts.linkname));
  for (const [k, v] of Object.entries(opts.pax ?? {})) if (k !== 'path' && k !== 'linkpath') out.push(record(k, v));
  return Buffer.concat(out);
}

function decodePax(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    const space = buf.indexOf(32);
    const len = parseInt(buf.subarray(0, space).toString(), 10);
    if (!len || space < 0) return result;
    const rec = buf.subarray(space + 1, len - 1);
    const eq = rec.indexOf(61);
    if (eq < 0) return result;
    const key = rec.subarray(0, eq).toString('utf8');
    result[key] = rec.subarray(eq + 1).toString(key.startsWith(XATTR) ? 'latin1' : 'utf8');
    buf = buf.subarray(len);
  }
  return result;
}

headers.encodePax = encodePax;
headers.decodePax = decodePax;

export const PAX_XATTR = XATTR;
