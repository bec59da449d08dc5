#!/usr/bin/env node
// Which OCI requirements (spec/requirements.json) are covered by tests that exist.
//   node spec/coverage.mjs [--json] [--strict]
// A `tests` entry is "test/path.test.ts > [describe > ...] test title"; it counts when the file exists
// and contains the title (last segment) as a string literal. --strict: exit 1 if a named test is missing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { json: { type: 'boolean' }, strict: { type: 'boolean' } } });
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { requirements } = JSON.parse(readFileSync(join(repo, 'spec/requirements.json'), 'utf8'));

const fileCache = new Map();
function testExists(ref) {
  const parts = ref.split(' > ').map((s) => s.trim());
  const [file, ...names] = parts;
  if (names.length === 0) return false;
  if (!fileCache.has(file)) {
    const p = join(repo, file);
    fileCache.set(file, existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  }
  const text = fileCache.get(file);
  if (text === undefined) return false;
  // Every segment (describe blocks and the test) appears as a quoted literal.
  return names.every((n) => ['"', "'", '`'].some((q) => text.includes(q + n + q)));
}

const report = requirements.map((r) => {
  const tests = r.tests ?? [];
  const found = tests.filter(testExists);
  const missing = tests.filter((t) => !found.includes(t));
  const status = tests.length === 0 ? 'untested' : missing.length === 0 ? 'covered' : found.length ? 'partial' : 'missing';
  return { id: r.id, level: r.level, status, found, missing };
});

const count = (pred) => report.filter(pred).length;
const totals = {
  requirements: report.length,
  covered: count((r) => r.status === 'covered'),
  partial: count((r) => r.status === 'partial'),
  missingTests: count((r) => r.status === 'missing'),
  untested: count((r) => r.status === 'untested'),
  byLevel: Object.fromEntries(
    ['MUST', 'SHOULD', 'MAY'].map((l) => [l, { total: count((r) => r.level === l), covered: count((r) => r.level === l && r.status === 'covered') }]),
  ),
};

if (opts.json) {
  console.log(JSON.stringify({ totals, requirements: report }, null, 2));
} else {
  const mark = { covered: 'ok  ', partial: 'part', missing: 'MISS', untested: '-   ' };
  for (const r of report) {
    console.log(`${mark[r.status]} ${r.level.padEnd(6)} ${r.id}`);
    for (const m of r.missing) console.log(`       named test not found: ${m}`);
  }
  const lv = Object.entries(totals.byLevel).map(([l, v]) => `${l} ${v.covered}/${v.total}`).join(', ');
  console.log(
    `\n${totals.covered}/${totals.requirements} covered, ${totals.partial} partial, ${totals.missingTests} naming missing tests, ${totals.untested} without tests (${lv})`,
  );
}
if (opts.strict && (totals.partial || totals.missingTests)) process.exitCode = 1;
