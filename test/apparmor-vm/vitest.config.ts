// Config for the in-VM AppArmor suite only (test/vm/run-apparmor-suite.sh); the root config does not include
// this directory.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

delete process.env.NODE_EXTRA_CA_CERTS;

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/apparmor-vm/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // one worker thread: a worker costs seconds of start-up under TCG
    pool: 'threads',
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
