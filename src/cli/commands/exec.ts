import type { Command } from 'commander';
import { globals } from '../context';
import { count, type Wrap } from './index';
import type { ExecFlags } from '../actions/exec';

const collect = (v: string, all: string[]) => [...all, v];

export function registerExec(program: Command, wrap: Wrap): void {
  program
    .command('exec')
    .description('run a process in a running container')
    .argument('<container-id>')
    .argument('[command...]')
    .option('-p, --process <file>', 'a process.json to run instead of the command and flags')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('-d, --detach', 'do not wait for the process')
    .option('--pid-file <file>', 'file to write the process pid to')
    .option('--cwd <dir>', 'working directory in the container')
    .option('-e, --env <K=V>', 'an environment variable (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'user to run as')
    .option('-g, --additional-gids <gid>', 'an additional group (repeatable)', collect, [])
    .option('-c, --cap <cap>', 'an additional capability (repeatable)', collect, [])
    .option('--no-new-privs', 'set no_new_privs')
    .option('--preserve-fds <n>', 'pass fds 3..3+n-1 to the process', count, 0)
    .option('--ignore-paused', 'exec even when the container is paused')
    .option('--cgroup <path>', 'run the process in an existing sub-cgroup of the container', collect, [])
    .option('--apparmor <profile>', 'AppArmor profile for the process (default: the container\'s)')
    .option('--process-label <label>', 'SELinux label for the process (default: the container\'s)')
    .allowUnknownOption(false)
    .passThroughOptions()
    .action(wrap('exec', (id: string, command: string[], o: ExecFlags, cmd: Command) =>
      loadCall().then(({ execAction }) => execAction(globals(cmd), id, command, o))));
}

/** The action, from the call's own bundle (dist/lib/call-exec.cjs, which the fast entry loads too). */
const loadCall = () => import('../calls/call-exec');
