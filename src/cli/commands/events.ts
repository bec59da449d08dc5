import type { Command } from 'commander';
import { globals } from '../context';
import type { Wrap } from './index';
import { out } from '../output';

/** Go-style durations as runc takes them: 5s, 100ms, 1m. */
function duration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new Error(`invalid duration "${value}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export function registerEvents(program: Command, wrap: Wrap): void {
  program
    .command('events')
    .description('print container events (stats, oom) as JSON lines')
    .argument('<container-id>')
    .option('--stats', 'print the stats once and exit')
    .option('--interval <duration>', 'time between stats', duration, 5000)
    .action(
      wrap('events', async (id: string, o: { stats?: boolean; interval: number }, cmd: Command) => {
        const { stats, events, eventJson } = await import('../../runtime/ops/events');
        const root = globals(cmd).root;
        if (o.stats) {
          out(eventJson(stats(root, id)) + '\n');
          return;
        }
        for await (const event of events(root, id, o.interval)) out(eventJson(event) + '\n');
      }),
    );
}
