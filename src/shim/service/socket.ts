import net from 'node:net';

/** Whether a server accepts connections on the unix socket at `p` (a live shim). */
export function canConnect(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
