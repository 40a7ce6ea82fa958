import { readFileSync } from 'node:fs';

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** The comment lines right above it, without `#`. */
  readonly comment: string;
}

export interface Stage {
  readonly name: string | undefined;
  /** The image after FROM, with the Dockerfile's ARG defaults substituted. */
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

/** The stages of a Dockerfile (enough of the syntax for this project's: no heredocs, no escape directive). */
export function readDockerfile(path: string): Stage[] {
  const args = new Map<string, string>();
  const stages: { name: string | undefined; base: string; instructions: Instruction[] }[] = [];
  let comment: string[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line.startsWith('#')) {
      comment.push(line.replace(/^#\s?/, ''));
      continue;
    }
    if (line === '') {
      comment = [];
      continue;
    }
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest, comment: comment.join('\n') };
    comment = [];
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args.set(name, value);
    } else if (instruction.keyword === 'FROM') {
      const [image = '', , name] = rest.split(/\s+/);
      stages.push({ name: name?.toLowerCase(), base: image.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args.get(n) ?? ''), instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/**
 * The Debian packages a shell command line installs: the words after each `apt-get install`, up to
 * the end of that command, options and redirections left out.
 */
export function aptPackages(shell: string): string[] {
  const packages: string[] = [];
  for (const match of shell.matchAll(/apt-get\s+install\s+([^;&|\n]*)/g)) {
    for (const word of match[1]!.trim().split(/\s+/)) {
      // A variable ($TEST_TOOLS, $TORCH_TOOLS in .ci/run) holds the test tools, which are not the image's business.
      if (word === '' || word.startsWith('-') || word.startsWith('$') || word.startsWith('>') || word.startsWith('<') || word.includes('/dev/')) continue;
      packages.push(word);
    }
  }
  return packages;
}

/** True when every `apt-get install` of the command line comes after an `apt-get update` in it. */
export function updatesBeforeInstall(shell: string): boolean {
  const install = shell.indexOf('apt-get install');
  return install < 0 || shell.slice(0, install).includes('apt-get update');
}
