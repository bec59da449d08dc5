// The decompressor for a layer media type: tar as is, gzip through zlib, zstd through fzstd (Node 20's zlib
// has no zstd). Foreign/non-distributable media types are the same formats (image-spec layer.md).
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' {
  const m = mediaType.replace('.nondistributable', '');
  if (/\.tar$/.test(m) || m === 'application/vnd.docker.image.rootfs.diff.tar') return 'none';
  if (/(\.tar\+gzip|diff\.tar\.gzip)$/.test(m)) return 'gzip';
  if (/\.tar\+zstd$/.test(m)) return 'zstd';
  throw new Error(`unsupported layer media type ${mediaType}`);
}

class ZstdStream extends Transform {
  private inner: Decompress;
  constructor() {
    super();
    this.inner = new Decompress((chunk: Uint8Array) => this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)));
  }
  override _transform(chunk: Buffer, _enc: string, done: (e?: Error) => void): void {
    try {
      this.inner.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      done();
    } catch (e) {
      done(new Error(`zstd layer: ${(e as Error).message}`));
    }
  }
  override _flush(done: (e?: Error) => void): void {
    try {
      this.inner.push(new Uint8Array(0), true);
      done();
    } catch (e) {
      done(new Error(`zstd layer: ${(e as Error).message}`));
    }
  }
}

export function decompressor(mediaType: string, input: Readable): Readable {
  const kind = layerCompression(mediaType);
  if (kind === 'none') return input;
  // Big output chunks: each one is a round trip to zlib's thread (16 KiB by default left the main thread idle).
  if (kind === 'gzip') return input.pipe(createGunzip({ chunkSize: 1 << 18 }));
  return input.pipe(new ZstdStream());
}
