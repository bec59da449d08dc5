import fs from 'node:fs';

// Straight to the fds: process.stdout/stderr would load the whole stream stack on every CLI call.
export const out = (text: string): void => writeAll(1, text);
export const err = (text: string): void => writeAll(2, text);

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      // A non-blocking pipe that is full: wait for it rather than lose output.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
