import { ConfigError } from '@dptrain/config';

/** The items of a comma-separated flag value, trimmed; an empty list is refused. */
export function splitList(flag: string, text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new ConfigError('E_CONFIG_VALUE', `${flag} "${text}" is empty; give a comma-separated list, e.g. ${flag} 1,2,4`);
  return items;
}

/** A comma-separated list of positive integers, e.g. `--workers 1,2,4`. */
export function intList(flag: string, text: string): number[] {
  return splitList(flag, text).map((item) => {
    if (!/^\d+$/.test(item) || Number(item) < 1)
      throw new ConfigError('E_CONFIG_VALUE', `${flag} ${text}: "${item}" is not a positive integer; give e.g. ${flag} 1,2,4`);
    return Number(item);
  });
}

/** A comma-separated list of positive finite numbers, e.g. `--lr-factors 0.3,1,3`. */
export function numberList(flag: string, text: string): number[] {
  return splitList(flag, text).map((item) => {
    const value = Number(item);
    if (!(Number.isFinite(value) && value > 0))
      throw new ConfigError('E_CONFIG_VALUE', `${flag} ${text}: "${item}" is not a positive number; give e.g. ${flag} 0.3,1,3`);
    return value;
  });
}

/** A comma-separated list of names drawn from `allowed`, in the order given. */
export function nameList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  return splitList(flag, text).map((item) => {
    if (!(allowed as readonly string[]).includes(item))
      throw new ConfigError('E_CONFIG_VALUE', `${flag} ${text}: "${item}" is not one of ${allowed.join(', ')}; give e.g. ${flag} ${allowed.join(',')}`);
    return item as T;
  });
}

/** A positive integer flag. */
export function positiveInt(flag: string, text: string): number {
  return intList(flag, text).length === 1 ? Number(text.trim()) : notOne(flag, text);
}

function notOne(flag: string, text: string): never {
  throw new ConfigError('E_CONFIG_VALUE', `${flag} ${text} takes one positive integer, not a list`);
}
