import { defineConfig } from 'vitest/config';

// Spawned node processes start 40 ms faster without it.
delete process.env.NODE_EXTRA_CA_CERTS;

// .ci/run sets this to get machine-readable results next to the human ones.
const jsonOut = process.env.TSRUNC_TEST_JSON;

const exclude = ['test/cgroups-vm/**', '**/node_modules/**'];

export default defineConfig({
  test: {
    reporters: jsonOut ? ['default', 'json'] : ['default'],
    outputFile: jsonOut ? { json: jsonOut } : undefined,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Real containers as root: one file at a time, so timing-sensitive tests do not fight for 2 cores.
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Builds the shared rootfs and fails the run if containers leak anything on the host.
          globalSetup: ['test/setup/global.ts'],
          exclude,
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // containerd, dockerd and podman driving runc and tsrunc (test/engines/harness.ts): root, serial.
        extends: true,
        test: {
          name: 'engines',
          include: ['test/engines/**/*.test.ts'],
          exclude,
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
