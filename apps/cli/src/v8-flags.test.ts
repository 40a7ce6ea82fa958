import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('./v8-flags.ts', import.meta.url));

/**
 * Loads v8-flags.ts in a fresh node with DPTRAIN_V8_FLAGS set as given (unset when undefined),
 * then compiles code that uses V8's natives syntax, which parses only under --allow-natives-syntax:
 * a flag V8 reads when it compiles, so it shows whether the module's call reached V8.
 */
function nativesAfterLoading(flags: string | undefined): string {
  const env = { ...process.env };
  delete env.DPTRAIN_V8_FLAGS;
  if (flags !== undefined) env.DPTRAIN_V8_FLAGS = flags;
  const script = `await import(${JSON.stringify(MODULE)}); let out; try { out = String(new Function('return %IsSmi(1)')()); } catch (e) { out = e.name; } console.log(out);`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return child.stdout.trim();
}

describe('v8-flags', () => {
  it('hands DPTRAIN_V8_FLAGS to V8 in place of its own flags', () => {
    expect(nativesAfterLoading('--allow-natives-syntax')).toBe('true');
  });

  it('sets its own flags when DPTRAIN_V8_FLAGS is unset, and this V8 knows each of them', () => {
    // V8 prints "Error: unrecognized flag" for a flag it lacks, which the helper refuses.
    expect(nativesAfterLoading(undefined)).toBe('SyntaxError');
  });
});
