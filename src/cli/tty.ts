import fs from 'node:fs';
import type tty from 'node:tty';

/**
 * A foreground terminal (`run -t`/`exec -t` without --console-socket): our terminal is put in raw
 * mode and joined to the container's pty master until the master closes; the window size follows ours.
 */
export function foregroundConsole(): { onMaster: (fd: number) => void } {
  return {
    onMaster: (masterFd: number) => {
      const out = process.stdout;
      const resize = async () => {
        const { native } = await import('../runtime/native');
        if (out.isTTY) native().setWinsize(masterFd, out.rows, out.columns);
      };
      void resize();
      if (out.isTTY) out.on('resize', resize);
      const stdin = process.stdin;
      if (stdin.isTTY) (stdin as tty.ReadStream).setRawMode(true);
      const master = fs.createReadStream('', { fd: masterFd, autoClose: false });
      const toMaster = fs.createWriteStream('', { fd: masterFd, autoClose: false });
      stdin.pipe(toMaster);
      master.pipe(out, { end: false });
      // EIO on the master means the container side has closed: the session is over.
      const done = () => {
        if (stdin.isTTY) (stdin as tty.ReadStream).setRawMode(false);
        stdin.unpipe(toMaster);
        stdin.pause();
        out.off('resize', resize);
      };
      master.on('error', done);
      master.on('end', done);
    },
  };
}
