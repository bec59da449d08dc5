// Config for the in-VM shim suite only (test/vm/run-shim-suite.sh): containerd and our shim in the qemu
// guest, where cgroup v2 has a memory controller. No root-config project includes this directory.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

delete process.env.NODE_EXTRA_CA_CERTS;

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/shim-vm/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // one worker thread: a worker costs seconds of start-up under TCG
    pool: 'threads',
    isolate: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
