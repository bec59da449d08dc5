// `buildah bud --runtime tsrunc`: the Dockerfile's RUN steps run in tsrunc containers; the built image is
// then imported, bundled and run by tsrunc (the docker build -> docker run flow with tsrunc doing both).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../src/bundle/busybox';
import { runId, TSRUNC_CJS, tsrunc, uniqueId } from '../helpers';
import { removeTree } from '../helpers/fs';
import { dirLayer, newLayout, writeImage } from './images-fixture';

// Lower case: buildah turns the layout path into an image name.
const work = join(tmpdir(), `tsrunc-test-${runId()}-buildah-${process.pid}`);
mkdirSync(work);
const store = join(work, 'store');
let bundle: string | undefined;

afterAll(async () => {
  if (bundle) await tsrunc(['--store', store, 'bundle', 'rm', bundle]);
  removeTree(work);
});

it('buildah bud runs RUN steps with tsrunc; tsrunc imports, bundles and runs the result', async () => {
  const rootfs = join(work, 'busybox');
  makeBusyboxRootfs(rootfs);
  const layout = newLayout(join(work, 'base'));
  writeImage(layout, 'base', [await dirLayer(layout, rootfs)]);
  // The runtime buildah calls: records each call, then is tsrunc.
  const calls = join(work, 'calls');
  const runtime = join(work, 'runtime.sh');
  writeFileSync(runtime, `#!/bin/sh\necho "$*" >> ${calls}\nexec ${process.execPath} ${TSRUNC_CJS} "$@"\n`);
  chmodSync(runtime, 0o755);
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), [
    `FROM oci:${layout}:base`,
    'RUN echo built-by-tsrunc > /built && grep -c . /proc/self/mountinfo > /mounts',
    'RUN cat /built > /again && rm /bin/ls',
    'CMD ["sh", "-c", "cat /built /again; test -e /bin/ls || echo no-ls"]',
    '',
  ].join('\n'));
  // A private mount namespace: buildah's storage mounts go away with it.
  const buildah = (...args: string[]) =>
    execFileSync('unshare', ['-m', '--propagation', 'private', 'buildah', '--root', join(work, 'storage'), '--runroot', join(work, 'run'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_EXTRA_CA_CERTS: '' }, timeout: 300_000,
    });
  buildah('bud', '--isolation', 'oci', '--runtime', runtime, '-t', 'built:1', ctx);
  // Two RUN steps, each a container of our runtime.
  const created = readFileSync(calls, 'utf8').split('\n').filter((l) => / create /.test(` ${l} `) || /^create /.test(l) || / run /.test(` ${l} `));
  expect(created.length).toBeGreaterThanOrEqual(2);
  // The built image (a 2nd buildah call in a fresh namespace reads the same storage).
  execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    `buildah --root ${join(work, 'storage')} --runroot ${join(work, 'run')} push built:1 oci:${join(work, 'out')}:built && ` +
    `buildah --root ${join(work, 'storage')} --runroot ${join(work, 'run')} rmi -a -f >/dev/null`], { stdio: 'ignore', timeout: 300_000 });
  const imp = await tsrunc(['--store', store, 'image', 'import', `${join(work, 'out')}:built`, '--tag', 'built:1']);
  expect(imp.code, imp.stderr).toBe(0);
  bundle = join(work, 'bundle');
  const c = await tsrunc(['--store', store, 'bundle', 'create', '--image', 'built:1', bundle]);
  expect(c.code, c.stderr).toBe(0);
  const id = uniqueId('built');
  const r = await tsrunc(['run', '--bundle', bundle, id]);
  await tsrunc(['delete', '--force', id]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('built-by-tsrunc\nbuilt-by-tsrunc\nno-ls\n');
}, 400_000);
