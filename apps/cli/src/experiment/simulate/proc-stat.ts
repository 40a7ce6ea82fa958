import { readFileSync } from 'node:fs';

/**
 * The fields of a /proc/PID/stat (or /proc/PID/task/TID/stat) file after the command name, which
 * sits in parentheses and may hold spaces: index 0 is field 3 (state), 1 the parent pid, 11 and
 * 12 utime and stime, 13 and 14 cutime and cstime. Throws where the file cannot be read.
 */
export function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
