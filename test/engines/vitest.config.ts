// The engine tests (containerd, dockerd, podman driving runc and tsrunc): slow, root, one file at a time.
// Run: npx vitest run --config test/engines/vitest.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Spawned node processes start 40 ms faster without it, and the daemons must not inherit it.
delete process.env.NODE_EXTRA_CA_CERTS;

export default defineConfig({
  test: {
    name: 'engines',
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/engines/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
