import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Each fixture breaks the architecture once, as a change could; linted at the path its first line
// names with the repository's own ESLint config, it must be refused by the rule that guards that
// boundary. The same text without its import must pass, so a rule that refuses everything fails too.
const CASES = [
  { fixture: 'protocol-imports-optim', rule: '@nx/enforce-module-boundaries', says: /scope:protocol/ },
  { fixture: 'training-imports-simulator', rule: '@nx/enforce-module-boundaries', says: /@dptrain\/simulator/ },
  { fixture: 'worker-imports-test-helpers', rule: 'no-restricted-imports', says: /npm ci --omit=dev/ },
  { fixture: 'command-imports-lab', rule: 'no-restricted-imports', says: /the lab loads with its command only/ },
];

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: REPO });

async function refusals(text: string, filePath: string): Promise<{ rule: string | null; message: string }[]> {
  const [result] = await eslint.lintText(text, { filePath });
  return result!.messages.filter((m) => m.severity === 2).map((m) => ({ rule: m.ruleId, message: m.message }));
}

describe('the module boundaries', () => {
  it.each(CASES)('refuse $fixture with $rule', async ({ fixture, rule, says }) => {
    const text = readFileSync(new URL(`fixtures/boundaries/${fixture}.ts.txt`, import.meta.url), 'utf8');
    const at = /^\/\/ at: (\S+)/.exec(text)![1]!;
    const found = await refusals(text, join(REPO, at));
    expect(found.filter((r) => r.rule === rule && says.test(r.message))).toHaveLength(1);
    const withoutImport = text.replace(/^import .*$/m, '');
    expect(await refusals(withoutImport, join(REPO, at))).toEqual([]);
  });
});
