#!/usr/bin/env node
// Sums every vitest JSON report in .test-results/ into one line:
// "N passed, N failed". Exits non-zero when anything failed or a suite
// could not even load (a file that errored counts as a failure).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', '.test-results');
let passed = 0;
let failed = 0;
const lines = [];
// Reports of other runs (another Node line, qemu) sit in subfolders: node-24/reactor.json.
const files = existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.json')).sort() : [];
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  // A test file that failed to load has no assertions but counts as failed.
  const brokenFiles = (report.testResults ?? []).filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenFiles;
  lines.push(`  ${file.replace(/\.json$/, '').padEnd(40)} ${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed`);
}
if (lines.length === 0) failed += 1;
console.log('\nTest suites:');
console.log(lines.join('\n') || '  (no reports found)');
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
