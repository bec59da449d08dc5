// Commander loads child_process for executable subcommands, which tsrunc does not use; loading it
// (with net, dgram and the stream stack) would cost every CLI call a few milliseconds.
module.exports = new Proxy({}, {
  get(_, name) {
    throw new Error(`child_process.${String(name)} is not available in the tsrunc CLI bundle`);
  },
});
