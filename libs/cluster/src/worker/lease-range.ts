import type { DataPlan } from '@dptrain/data';
import { ProtocolError, type MessageOf } from '@dptrain/protocol';

/** How a refusal names the lease: its id, step and size. */
export function leaseWhere(lease: MessageOf<'lease'>): string {
  const n = lease.microBatchIds.length;
  return `lease ${lease.leaseId} (step ${lease.step}, ${n} micro-batch${n === 1 ? '' : 'es'})`;
}

/**
 * Refuses a lease of a step or micro-batch the job's plan does not have, before anything is
 * computed: a coordinator of another job or release could send one, and computing it would read
 * past the plan.
 * @throws ProtocolError E_RANGE naming the step or micro-batch, with `ref` = the lease's seq
 */
export function checkLeaseInPlan(lease: MessageOf<'lease'>, plan: Pick<DataPlan, 'microBatchesPerStep' | 'totalSteps'>): void {
  const refuse = (detail: string): never => {
    throw new ProtocolError(
      'E_RANGE',
      `E_RANGE: ${leaseWhere(lease)} ${detail} (help: run the worker with the coordinator of its job: the same config and dptrain release)`,
      { ref: lease.seq, verbatim: true },
    );
  };
  if (lease.step >= plan.totalSteps) refuse(`is outside the plan's steps 0..${plan.totalSteps - 1}`);
  const foreign = lease.microBatchIds.find((id) => id >= plan.microBatchesPerStep);
  if (foreign !== undefined) refuse(`names micro-batch ${foreign}; each step has micro-batches 0..${plan.microBatchesPerStep - 1}`);
}
