/**
 * Command-line flags of a benchmark: `--name value` pairs (or `--name=value`) checked against a
 * declared set, each with a default, so `npm run bench:x -- --steps 20` works and a typo fails
 * with the list of known flags instead of being ignored.
 */
import { parseArgs } from 'node:util';

interface FlagBase {
  readonly help: string;
}

/** A positive integer; without a default the flag is `undefined` when absent. */
export interface IntFlag extends FlagBase {
  readonly kind: 'int';
  readonly default?: number;
}

/** Comma-separated values, each one of `choices` when given. */
export interface ListFlag extends FlagBase {
  readonly kind: 'list';
  readonly default: readonly string[];
  readonly choices?: readonly string[];
}

/** Present or absent. */
export interface BooleanFlag extends FlagBase {
  readonly kind: 'boolean';
  readonly default: boolean;
}

export type FlagSpec = IntFlag | ListFlag | BooleanFlag;

export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K] extends ListFlag ? string[] : S[K] extends BooleanFlag ? boolean : S[K] extends { default: number } ? number : number | undefined;
};

/** The `--help` text: one line per flag with its default. */
export function flagHelp(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([name, s]) => {
      const shown = s.kind === 'list' ? s.default.join(',') : s.default === undefined ? undefined : String(s.default);
      const choices = s.kind === 'list' && s.choices ? ` (of ${s.choices.join(', ')})` : '';
      return `  --${name}${s.kind === 'boolean' ? '' : ' VALUE'}  ${s.help}${choices}${shown === undefined ? '' : `; default ${shown}`}`;
    })
    .join('\n');
}

/**
 * Parses `argv` (without node and the script) against `specs`.
 * @throws {RangeError} an unknown flag, a missing value, a value that is not a positive integer
 *   for an `int` flag, or a list item outside `choices`; the message names flag, value and fix.
 */
export function parseFlags<S extends Record<string, FlagSpec>>(argv: readonly string[], specs: S): FlagValues<S> {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [name, { type: s.kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new RangeError(`${(error as Error).message}; known flags:\n${flagHelp(specs)}`, { cause: error });
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = values[name];
    if (raw === undefined) {
      out[name] = spec.kind === 'list' ? [...spec.default] : spec.default;
    } else if (spec.kind === 'boolean') {
      out[name] = raw;
    } else if (spec.kind === 'int') {
      const n = Number(raw);
      if (!(Number.isSafeInteger(n) && n > 0))
        throw new RangeError(`--${name} ${String(raw)} is not a positive integer; pass e.g. --${name} ${spec.default ?? 10}`);
      out[name] = n;
    } else {
      const items = String(raw)
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      const { choices } = spec;
      const unknown = items.find((v) => choices !== undefined && !choices.includes(v));
      if (items.length === 0 || unknown !== undefined) {
        throw new RangeError(
          `--${name} ${String(raw)}: ${unknown === undefined ? 'empty list' : `"${unknown}" is not accepted`}; use a comma-separated list of ${choices?.join(', ') ?? 'values'}`,
        );
      }
      out[name] = items;
    }
  }
  return out as FlagValues<S>;
}

/**
 * A benchmark's flags from the command line, as its `npm run bench:NAME` gives them: `--help`
 * prints the flags and exits 0; a usage mistake (an unknown flag, a bad value, or what `check`
 * throws) prints its message, which says what to change, and exits 2 — a stack trace would only
 * hide it.
 */
export function readBenchFlags<S extends Record<string, FlagSpec> & { help: BooleanFlag }>(
  name: string,
  specs: S,
  check: (values: FlagValues<S>) => void = () => undefined,
): FlagValues<S> {
  let values: FlagValues<S>;
  try {
    values = parseFlags(process.argv.slice(2), specs);
    check(values);
  } catch (error) {
    console.error(`bench:${name}: ${(error as Error).message}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(`npm run bench:${name} -- [flags]\n${flagHelp(specs)}`);
    process.exit(0);
  }
  return values;
}
