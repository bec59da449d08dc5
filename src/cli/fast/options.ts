// The fast parser's option tables, apart: the CLI entry reads GLOBALS to find the command word
// without compiling the parser.

/** key: where the value goes; value: takes an argument; set: the value of a flag; repeat: collects. */
export interface Opt {
  key: string;
  value?: boolean;
  set?: boolean;
  repeat?: boolean;
}

export const val = (key: string): Opt => ({ key, value: true });
export const flag = (key: string, set = true): Opt => ({ key, set });

export const GLOBALS: Record<string, Opt> = {
  '--root': val('root'),
  '--log': val('log'),
  '--log-format': val('logFormat'),
  '--debug': flag('debug'),
  '--rootless': val('rootless'),
  '--criu': val('criu'),
};

