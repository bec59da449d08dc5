// TaskOOM: the kernel notifies a change of memory.events through inotify (cgroup v2), and a grown
// oom_kill count is an OOM kill in the container. No polling; no memory controller, no file, no watch.
import fs from 'node:fs';
import path from 'node:path';

function oomKills(file: string): number {
  try {
    const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export class OomWatch {
  private constructor(private readonly watcher: fs.FSWatcher) {}

  static start(cgroupDir: string, onOom: () => void): OomWatch | undefined {
    const file = path.join(cgroupDir, 'memory.events');
    if (!fs.existsSync(file)) return undefined;
    let seen = oomKills(file);
    const watcher = fs.watch(file, { persistent: false }, () => {
      const now = oomKills(file);
      if (now > seen) onOom();
      seen = now;
    });
    watcher.on('error', () => watcher.close());
    return new OomWatch(watcher);
  }

  close(): void {
    this.watcher.close();
  }
}
