// Preloaded (`node -r`) into our shim's server by bench/shim-trace.mjs: timestamps (epoch ms) and CPU of its
// start-up and of every ttrpc request/answer, written to $TSRUNC_SHIM_TRACE_DIR/<pid>.json at exit.
// Measurement only: it patches Node's net/vm objects in this one process, never the shim's code.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const vm = require('node:vm');

const dir = process.env.TSRUNC_SHIM_TRACE_DIR;
const now = () => performance.timeOrigin + performance.now();
const marks = [];
const mark = (name, extra) => {
  const c = process.cpuUsage();
  marks.push({ name, t: now(), cpu: (c.user + c.system) / 1000, ...extra });
};
marks.push({ name: 'process start (timeOrigin)', t: performance.timeOrigin, cpu: 0 });
mark('preload');

const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, opts) {
    mark('compile:begin', { file: opts?.filename });
    super(source, opts);
    mark('compile:end', { rejected: this.cachedDataRejected, cache: opts?.cachedData?.length ?? 0 });
  }
  runInThisContext(...a) {
    const r = super.runInThisContext(...a);
    mark('script:ran');
    return r;
  }
};

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...a) {
  mark('listen:call');
  this.once('listening', () => mark('listening'));
  this.on('connection', () => mark('accept'));
  return listen.apply(this, a);
};

/** Field 1/2 strings (service, method) of a ttrpc Request payload. */
function methodOf(p) {
  const out = [];
  let i = 0;
  while (i < p.length && out.length < 2) {
    const tag = p[i++];
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = p[i++];
      len |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if ((tag & 7) !== 2) return out.join('/');
    out.push(p.subarray(i, i + len).toString());
    i += len;
  }
  return out[1] ?? '?';
}

function frames(buf, fn) {
  for (let o = 0; o + 10 <= buf.length; ) {
    const len = buf.readUInt32BE(o);
    fn(buf.readUInt32BE(o + 4), buf[o + 8], buf.subarray(o + 10, o + 10 + len));
    o += 10 + len;
  }
}

const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (ev, chunk, ...rest) {
  if (ev === 'data' && Buffer.isBuffer(chunk) && this.server) {
    frames(chunk, (id, type, p) => type === 1 && mark('req', { id, method: methodOf(p) }));
  }
  if (ev === 'close' && this.server) mark('conn:close');
  return emit.call(this, ev, chunk, ...rest);
};
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (chunk, ...rest) {
  if (Buffer.isBuffer(chunk) || chunk instanceof Uint8Array) {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.server) frames(b, (id, type) => type === 2 && mark('res', { id }));
    else {
      const m = /\/tasks\/[a-z-]+/.exec(b.toString('latin1'));
      if (m) mark('event', { topic: m[0] });
    }
  }
  return write.call(this, chunk, ...rest);
};

process.on('exit', () => {
  mark('exit');
  if (dir) fs.writeFileSync(`${dir}/${process.pid}.json`, JSON.stringify({ pid: process.pid, argv: process.argv, marks }));
});
