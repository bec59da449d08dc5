#!/usr/bin/env node
// Which OCI requirements (spec/requirements.json) are covered by tests that exist.
//   node spec/coverage.mjs [--all] [--json] [--strict]
// A `tests` entry is "test/path.test.ts > [describe > ...] test title". It counts when the file exists and
// holds every segment as a string literal ('…', "…" or `…`), each after the previous one, so a describe
// narrows where the title is looked for. Parametrised titles are named as written in the source:
// "a failing %s hook …" (it.each) or "kill ${signal} stops …" (a template in a loop).
// --all: one line per requirement. --strict: exit 1 when a named test is missing, an entry is malformed, or
// a MUST has no test and no `untestable` reason (why it cannot be tested on this host).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { json: { type: 'boolean' }, strict: { type: 'boolean' }, all: { type: 'boolean' } } });
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { requirements } = JSON.parse(readFileSync(join(repo, 'spec/requirements.json'), 'utf8'));
const LEVELS = ['MUST', 'SHOULD', 'MAY'];

const fileCache = new Map();
function source(file) {
  if (!fileCache.has(file)) {
    const p = join(repo, file);
    fileCache.set(file, /^test\/.+\.test\.ts$/.test(file) && existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  }
  return fileCache.get(file);
}

/** Index just past `name` as a quoted literal at or after `from`, or -1. */
function findLiteral(text, name, from) {
  let best = -1;
  for (const q of ['"', "'", '`']) {
    const i = text.indexOf(q + name + q, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best < 0 ? -1 : best + name.length + 2;
}

function testExists(ref) {
  const [file, ...names] = ref.split(' > ').map((s) => s.trim());
  const text = source(file);
  if (text === undefined || names.length === 0) return false;
  let at = 0;
  for (const n of names) {
    at = findLiteral(text, n, at);
    if (at < 0) return false;
  }
  return true;
}

// Malformed entries: a report built on them would mislead.
const problems = [];
const seen = new Set();
for (const r of requirements) {
  if (!r.id || seen.has(r.id)) problems.push(`duplicate or missing id: ${r.id}`);
  seen.add(r.id);
  if (!LEVELS.includes(r.level)) problems.push(`${r.id}: level ${r.level} is not one of ${LEVELS.join('/')}`);
  if (!r.file || !r.section || !r.text) problems.push(`${r.id}: file, section and text are required`);
  if (!Array.isArray(r.tests)) problems.push(`${r.id}: tests must be an array`);
  else for (const t of r.tests) if (!/^test\/\S+\.test\.ts > ./.test(t)) problems.push(`${r.id}: malformed test reference "${t}"`);
}

const report = requirements.map((r) => {
  const tests = Array.isArray(r.tests) ? r.tests : [];
  const found = tests.filter(testExists);
  const missing = tests.filter((t) => !found.includes(t));
  const status = tests.length === 0 ? 'untested' : missing.length === 0 ? 'covered' : found.length ? 'partial' : 'missing';
  return { id: r.id, file: r.file, level: r.level, status, found, missing, note: r.untestable ? `cannot be tested here: ${r.untestable}` : r.note, untestable: !!r.untestable };
});

const count = (pred) => report.filter(pred).length;
const tally = (rows) => ({ total: rows.length, covered: rows.filter((r) => r.status === 'covered').length });
const files = [...new Set(report.map((r) => r.file))];
const totals = {
  requirements: report.length,
  covered: count((r) => r.status === 'covered'),
  partial: count((r) => r.status === 'partial'),
  missingTests: count((r) => r.status === 'missing'),
  untested: count((r) => r.status === 'untested'),
  mustUnexplained: count((r) => r.level === 'MUST' && r.status === 'untested' && !r.untestable),
  byLevel: Object.fromEntries(LEVELS.map((l) => [l, tally(report.filter((r) => r.level === l))])),
  byFile: Object.fromEntries(files.map((f) => [f, tally(report.filter((r) => r.file === f))])),
};

const pct = ({ covered, total }) => `${covered}/${total}`.padStart(7) + ` (${total ? Math.round((100 * covered) / total) : 0}%)`;

if (opts.json) {
  console.log(JSON.stringify({ totals, problems, requirements: report }, null, 2));
} else {
  if (opts.all) {
    const mark = { covered: 'ok  ', partial: 'part', missing: 'MISS', untested: '-   ' };
    for (const r of report) console.log(`${mark[r.status]} ${r.level.padEnd(6)} ${r.id}`);
    console.log('');
  }
  const broken = report.filter((r) => r.missing.length);
  if (broken.length) {
    console.log('Named tests not found:');
    for (const r of broken) for (const m of r.missing) console.log(`  ${r.id}: ${m}`);
    console.log('');
  }
  for (const level of ['MUST', 'SHOULD']) {
    const open = report.filter((r) => r.level === level && r.status !== 'covered');
    if (!open.length) continue;
    console.log(`${level} requirements without a (working) test:`);
    for (const r of open) console.log(`  ${r.id}${r.note ? `  [${r.note}]` : ''}`);
    console.log('');
  }
  if (problems.length) {
    console.log('Malformed entries:');
    for (const p of problems) console.log(`  ${p}`);
    console.log('');
  }
  console.log(`OCI runtime-spec requirements covered by tests (spec/requirements.json):`);
  console.log(`  all      ${pct({ covered: totals.covered, total: totals.requirements })}`);
  for (const l of LEVELS) console.log(`  ${l.padEnd(8)} ${pct(totals.byLevel[l])}`);
  for (const f of files) console.log(`  ${f.padEnd(17)} ${pct(totals.byFile[f])}`);
  console.log(`  ${totals.partial} partial, ${totals.missingTests} naming only missing tests, ${totals.untested} without tests`);
  if (totals.mustUnexplained) console.log(`  ${totals.mustUnexplained} MUST without a test and without an "untestable" reason`);
}
if (opts.strict && (totals.partial || totals.missingTests || totals.mustUnexplained || problems.length)) process.exitCode = 1;
