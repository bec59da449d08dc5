// Go `flag` syntax, as containerd passes it: -name value, -name=value, --name value, bare -bool.
import { ConfigError } from '../../runtime/errors';

export interface ShimFlags {
  namespace: string;
  id: string;
  address: string;
  publishBinary: string;
  bundle: string;
  socket: string;
  debug: boolean;
  version: boolean;
  action: string;
}

const STRINGS: Record<string, keyof ShimFlags> = {
  namespace: 'namespace',
  id: 'id',
  address: 'address',
  'publish-binary': 'publishBinary',
  bundle: 'bundle',
  socket: 'socket',
};
const BOOLS: Record<string, keyof ShimFlags> = { debug: 'debug', v: 'version' };

export const usage = 'usage: containerd-shim-tsrunc-v2 -namespace NS -id ID -address ADDR [-publish-binary BIN] [-debug] [-bundle PATH] start|delete';

export function parseShimFlags(argv: string[]): ShimFlags {
  const f: ShimFlags = { namespace: '', id: '', address: '', publishBinary: 'containerd', bundle: '', socket: '', debug: false, version: false, action: '' };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (BOOLS[name]) {
      const v = eq < 0 ? 'true' : body.slice(eq + 1);
      (f as unknown as Record<string, unknown>)[BOOLS[name]!] = v === 'true' || v === '1';
    } else if (STRINGS[name]) {
      const v = eq < 0 ? argv[++i] : body.slice(eq + 1);
      if (v === undefined) throw new ConfigError(`-${name}`, 'flag needs an argument');
      (f as unknown as Record<string, unknown>)[STRINGS[name]!] = v;
    } else {
      throw new ConfigError(`-${name}`, `flag provided but not defined\n${usage}`);
    }
  }
  f.action = argv[i] ?? '';
  return f;
}
