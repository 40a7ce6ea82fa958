import type { JobConfig } from '@dptrain/config';
import type { DataPlan, Split } from '@dptrain/data';
import { planOf } from '@dptrain/job';
import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';

/** A lease's samples as `lease.images` and `lease.labels` carry them. */
export interface SampleRows {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

/**
 * The rows of the training split that a lease's micro-batches read, for the workers that have no
 * data set (`register.samples`). They are the split's own bytes, the input of `gather`, not its
 * float output: a worker writes them into an empty split at the plan's indices and gathers from
 * there, so it computes the bits of a worker that loaded the data set.
 */
export class LeaseSamples {
  private readonly plan: DataPlan;
  private readonly images: Uint8Array;

  /** @throws RangeError when the split's images are floats (only byte images travel) */
  constructor(
    private readonly train: Split,
    config: JobConfig,
  ) {
    if (!(train.images instanceof Uint8Array)) {
      throw new RangeError(
        'the training split holds float32 images; a coordinator sends workers only byte images (the IDX and generated data sets); help: give it the split as bytes',
      );
    }
    this.images = train.images;
    this.plan = planOf(config, train.count);
  }

  /** The rows of micro-batches `ids` of `step`, micro-batch by micro-batch in `ids` order, each in the plan's order. */
  rows(step: number, ids: readonly number[]): SampleRows {
    const { features, labels } = this.train;
    const perMicroBatch = this.plan.microBatchSize;
    const images = new Uint8Array(ids.length * perMicroBatch * features);
    const out = new Uint8Array(ids.length * perMicroBatch);
    let s = 0;
    for (const id of ids) {
      for (const index of this.plan.microBatch(step, id)) {
        images.set(this.images.subarray(index * features, (index + 1) * features), s * features);
        out[s++] = labels[index];
      }
    }
    return { images, labels: out };
  }

  /**
   * Refuses a worker asking for samples when the largest lease it could be sent (a whole step)
   * would not fit the frame bound it declared.
   * @throws ProtocolError E_TOO_LARGE
   */
  checkFits(connection: Connection, msg: MessageOf<'register'>): void {
    const largest = this.largestLeaseBytes();
    if (largest <= connection.peer.maxPayload) return;
    throw new ProtocolError(
      'E_TOO_LARGE',
      `register asks for samples, but a lease of a whole step with its samples takes up to ${largest} bytes and ${msg.name} accepts frames of ${connection.peer.maxPayload}; help: declare a maxPayload of at least ${largest} when connecting to the coordinator`,
      { ref: msg.seq },
    );
  }

  /** A bound on the frame of a lease of every micro-batch of a step with its samples. */
  private largestLeaseBytes(): number {
    const ids = this.plan.microBatchesPerStep;
    const samples = ids * this.plan.microBatchSize;
    const align = (n: number): number => Math.ceil(n / 8) * 8;
    // Prefix and header: the fixed fields, then each id (≤ 9 bytes) and its ticket (23 bytes), with margin.
    const header = 8 + 512 + 64 * ids;
    return align(header) + align(samples * this.train.features) + align(samples);
  }
}

/**
 * Checks that the coordinator can serve a worker that registers asking for samples.
 * @throws ProtocolError E_ROLE when it has no training split to send, E_TOO_LARGE when a lease would not fit the worker's frame bound
 */
export function checkSampleWorker(samples: LeaseSamples | undefined, connection: Connection, msg: MessageOf<'register'>): void {
  if (!msg.samples) return;
  if (!samples) {
    throw new ProtocolError(
      'E_ROLE',
      `${msg.name} registers without a data set (samples), but this coordinator was started without the training split to send; help: start the worker with the data set (without --samples-from-coordinator)`,
      { ref: msg.seq },
    );
  }
  samples.checkFits(connection, msg);
}
