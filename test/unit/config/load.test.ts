import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBundleConfig } from '../../../src/runtime/config/load';
import { ConfigError } from '../../../src/runtime/errors';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-unit-load-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(config: unknown): void {
  fs.writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

function error(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('no error');
}

describe('loadBundleConfig', () => {
  it('loads a bundle with a relative root.path', () => {
    fs.mkdirSync(path.join(dir, 'rootfs'));
    write({ ociVersion: '1.3.0', root: { path: 'rootfs' } });
    const rel = path.relative(process.cwd(), dir);
    const b = loadBundleConfig(rel);
    expect(b.bundle).toBe(dir);
    expect(b.rootfs).toBe(path.join(dir, 'rootfs'));
    expect(b.spec.ociVersion).toBe('1.3.0');
  });

  it('keeps an absolute root.path', () => {
    const other = path.join(dir, 'elsewhere');
    fs.mkdirSync(other);
    write({ ociVersion: '1.3.0', root: { path: other } });
    expect(loadBundleConfig(dir).rootfs).toBe(other);
  });

  it('missing bundle directory', () => {
    const e = error(() => loadBundleConfig(path.join(dir, 'nope')));
    expect(e.where).toBe('bundle');
    expect(e.message).toMatch(/does not exist/);
  });

  it('missing config.json', () => {
    const e = error(() => loadBundleConfig(dir));
    expect(e.where).toBe('config.json');
    expect(e.message).toMatch(/does not exist/);
  });

  it('malformed JSON includes the parser message', () => {
    write('{"ociVersion": ');
    const e = error(() => loadBundleConfig(dir));
    expect(e.where).toBe('config.json');
    let parserMessage = '';
    try {
      JSON.parse('{"ociVersion": ');
    } catch (err) {
      parserMessage = (err as Error).message;
    }
    expect(e.message).toContain(parserMessage);
  });

  it('not an object', () => {
    write('[1]');
    expect(error(() => loadBundleConfig(dir)).where).toBe('config.json');
  });

  it('missing root', () => {
    write({ ociVersion: '1.3.0' });
    expect(error(() => loadBundleConfig(dir)).where).toBe('root');
  });

  it('missing root.path', () => {
    write({ ociVersion: '1.3.0', root: {} });
    expect(error(() => loadBundleConfig(dir)).where).toBe('root.path');
  });

  it('missing rootfs directory', () => {
    write({ ociVersion: '1.3.0', root: { path: 'rootfs' } });
    const e = error(() => loadBundleConfig(dir));
    expect(e.where).toBe('root.path');
    expect(e.message).toContain(path.join(dir, 'rootfs'));
  });
});
