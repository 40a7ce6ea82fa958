import { RESERVED_ENV } from '@dptrain/config';
import { runDptrain } from './dry-run.js';

export const ROLES = ['coordinator', 'ps', 'worker'] as const;

const declared = new Map<string, Promise<Set<string>>>();

/** The DPTRAIN_ variables `dptrain <role> --help` declares (`env: NAME`): its job keys', --config's and its options'. */
export function declaredEnv(role: string): Promise<Set<string>> {
  if (!declared.has(role)) {
    declared.set(
      role,
      runDptrain([role, '--help'], {}).then(({ stdout }) => new Set([...stdout.replace(/\s+/g, ' ').matchAll(/env: (DPTRAIN_[A-Z0-9_]+)/g)].map((m) => m[1]!))),
    );
  }
  return declared.get(role)!;
}

/** Variables every process reads whatever its role: the reserved names that no role declares as an option. */
export async function processWideEnv(): Promise<string[]> {
  const all = new Set((await Promise.all(ROLES.map(declaredEnv))).flatMap((names) => [...names]));
  return Object.keys(RESERVED_ENV).filter((name) => !all.has(name));
}

/** Every DPTRAIN_ variable `dptrain <role>` reads. */
export async function readableEnv(role: string): Promise<Set<string>> {
  return new Set([...(await declaredEnv(role)), ...(await processWideEnv())]);
}
