/**
 * Adds up the vitest JSON reports every workspace package wrote during `npm test` and prints one
 * closing line, "N passed, N failed, N skipped", so a reader (or CI) sees the whole run's count.
 * Exits non-zero when a package with a test script left no report, or any test failed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

function packageDirs(): string[] {
  const { workspaces } = JSON.parse(readFileSync('package.json', 'utf8')) as { workspaces: string[] };
  return workspaces.flatMap((pattern) =>
    pattern.endsWith('/*') ? readdirSync(pattern.slice(0, -2)).map((name) => join(pattern.slice(0, -2), name)) : [pattern],
  );
}

let passed = 0;
let failed = 0;
let skipped = 0;
const missing: string[] = [];
for (const dir of packageDirs()) {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest) || !(JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts?.test) continue;
  const path = join(dir, '.vitest-report.json');
  if (!existsSync(path)) {
    missing.push(dir);
    continue;
  }
  const report = JSON.parse(readFileSync(path, 'utf8')) as VitestJson;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
if (missing.length > 0) process.stderr.write(`no test report from ${missing.join(', ')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 || missing.length > 0 ? 1 : 0;
