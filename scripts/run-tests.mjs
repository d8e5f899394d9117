#!/usr/bin/env node
// `npm test`: the whole suite (vitest run), and once more for the files of a test worker that died.
// headless-gl (Mesa/ANGLE, native code) very occasionally aborts a test process outright — glibc's
// "free(): corrupted unsorted chunks" or a silent exit, seen in about one full run in several on this
// project's 2-core machine and never reproduced by running the file alone. Vitest then reports
// "Worker exited unexpectedly" and the tests of that file never ran. So: when the only trouble of a
// run is such a crash (no test failed), the files that did not finish are run again, each once, in
// fresh processes, and the crash is reported loudly. A failing test, or a crash on the second try,
// fails the run as before. Arguments are passed to vitest (e.g. a file to run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'nbf-tests-'));
const report = join(dir, 'report.json');
const vitest = (extra) => spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], { stdio: 'inherit', cwd: root });

function finishedFiles() {
  if (!existsSync(report)) return null;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const failedTests = r.numFailedTests ?? 0;
  // A file counts as finished when it reported tests and each has a result: a worker that died
  // leaves its file's tests 'pending'.
  const finished = (f) => f.assertionResults?.length > 0 && f.assertionResults.every((a) => a.status === 'passed' || a.status === 'skipped');
  const done = new Set(r.testResults.filter(finished).map((f) => relative(root, f.name)));
  return { failedTests, done };
}

function testFiles(folder) {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(folder, e.name)) : e.name.endsWith('.test.ts') ? [join(folder, e.name)] : []);
}

const args = process.argv.slice(2);
try {
  const first = vitest(args);
  if (first.status === 0) process.exit(0);
  const seen = finishedFiles();
  if (!seen || seen.failedTests > 0) process.exit(first.status ?? 1);
  const wanted = args.filter((a) => a.endsWith('.test.ts')).map((a) => relative(root, resolve(a)));
  const missing = (wanted.length ? wanted : testFiles('test')).filter((f) => !seen.done.has(f));
  if (!missing.length) process.exit(first.status ?? 1);
  console.error(`\nnpm test: a test worker exited without finishing ${missing.join(', ')} (a native crash in headless-gl; no test failed). Running ${missing.length === 1 ? 'it' : 'them'} once more.\n`);
  const second = vitest(missing);
  if (second.status === 0) console.error(`npm test: ${missing.join(', ')} passed on the second try; the first run's worker crash is reported above.`);
  process.exit(second.status ?? 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
