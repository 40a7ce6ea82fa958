/**
 * A child for turns.test.ts: takes `turns` turns with {@link TurnTaker}, appending
 * `<name> start <t>` and `<name> end <t>` to `log` around each, then reports `{ name }`.
 * `--fail-at T` throws in turn T instead; `--hang-at T` never ends turn T.
 *
 *   node --import tsx bench/lib/testing/turn-child.ts a /tmp/log 3 [--fail-at 1 | --hang-at 1]
 */
import { appendFileSync } from 'node:fs';
import { reportToParent } from '../child.js';
import { TurnTaker } from '../turns.js';

const [name, log, turnsText, mode, atText] = process.argv.slice(2);
const at = Number(atText);

await reportToParent(async () => {
  const turns = new TurnTaker(true);
  for (let t = 0; t < Number(turnsText); t++) {
    await turns.next();
    appendFileSync(log, `${name} start ${t}\n`);
    if (mode === '--fail-at' && t === at) throw new RangeError(`${name} fails in turn ${t}`);
    // A timer that keeps the process alive and a promise that never settles: the turn never ends.
    if (mode === '--hang-at' && t === at) await new Promise(() => setInterval(() => undefined, 1000));
    appendFileSync(log, `${name} end ${t}\n`);
  }
  return { name };
});
