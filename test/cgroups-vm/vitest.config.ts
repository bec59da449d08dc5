// Config for the in-VM cgroup suite only (test/vm/run-cgroup-suite.sh); the root config excludes this dir.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

delete process.env.NODE_EXTRA_CA_CERTS;

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/cgroups-vm/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // one worker thread for all files: a worker costs seconds of start-up and imports under TCG. Modules are
    // shared, so an afterAll registered at import (test/helpers/index.ts) fires only for the first importer.
    pool: 'threads',
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
