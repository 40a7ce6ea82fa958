/**
 * One JSON line on stdout for the process that started this one (`dptrain local`): the port a
 * server bound, each applied step, the end. stdout carries nothing else in the cluster roles.
 */
export function announce(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** The job id every process of one cluster shares (the handshake refuses others). @default 'dptrain' */
export function jobId(): string {
  return process.env.DPTRAIN_JOB ?? 'dptrain';
}
