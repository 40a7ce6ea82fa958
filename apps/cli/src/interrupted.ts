import { CodedError } from '@dptrain/errors';

/**
 * The user stopped a command (Ctrl-C, SIGTERM): thrown once everything the command started has
 * stopped; the process then exits 128 + 2, as a shell reports an interrupted program.
 */
export class Interrupted extends CodedError<'E_INTERRUPTED'> {
  readonly exitCode = 130;

  constructor(
    readonly signal: NodeJS.Signals,
    what: string,
  ) {
    super('E_INTERRUPTED', `${signal}: ${what}`);
  }
}
