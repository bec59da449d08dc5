// The progress of an import as one terminal line rewritten in place (layer i/n, bytes read of the blob,
// bytes unpacked), at most ten times a second plus once per layer change. The caller decides where it goes
// (a TTY only: piped output stays clean for scripts).
export interface LayerProgress {
  layer: number;
  layers: number;
  digest: string;
  /** The layer blob's size and how much of it has been read. */
  size: number;
  read: number;
  /** Bytes of tar unpacked so far. */
  unpacked: number;
  state: 'stored' | 'unpacking' | 'done';
}

export function human(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) (n /= 1000), i++;
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export interface ProgressLine {
  update(p: LayerProgress): void;
  /** Ends the line (after the last layer or an error), with a summary if all layers were seen. */
  end(): void;
}

export function progressLine(write: (text: string) => void, now: () => number = Date.now): ProgressLine {
  let last = 0;
  let shown = false;
  let total = 0;
  let seen = 0;
  let layers = 0;
  return {
    update(p) {
      layers = p.layers;
      if (p.state !== 'unpacking') (seen = p.layer + 1), (total += p.unpacked);
      if (p.state === 'unpacking' && p.read > 0 && now() - last < 100) return;
      last = now();
      shown = true;
      const what =
        p.state === 'stored' ? 'already in the store'
        : `${human(p.read)} of ${human(p.size)} read, ${human(p.unpacked)} unpacked${p.state === 'done' ? ', done' : ''}`;
      write(`\r\x1b[Klayer ${p.layer + 1}/${p.layers} ${p.digest.slice(7, 19)}: ${what}`);
    },
    end() {
      if (!shown) return;
      write(seen === layers ? `\r\x1b[K${layers} layers, ${human(total)} unpacked\n` : '\n');
      shown = false;
    },
  };
}
