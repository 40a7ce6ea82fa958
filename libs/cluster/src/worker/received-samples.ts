import type { DataPlan, Split } from '@dptrain/data';
import type { JobDescription } from '@dptrain/job';
import { ProtocolError, type MessageOf } from '@dptrain/protocol';
import { checkLeaseInPlan, leaseWhere } from './lease-range.js';

/**
 * The frame bound a worker without the data set declares to its coordinator, whose leases carry
 * their samples: 16 MiB, a step of about 21,000 samples of 28×28 bytes (a batch of 64 takes 50 KB).
 */
export const SAMPLES_MAX_PAYLOAD = 16 * 1024 * 1024;

/** `job.trainCount` samples of zeros, shaped as the job's training split: what a worker without the data set gathers from. */
export function emptyTrainingSplit(job: JobDescription): Split {
  const features = job.inputShape.reduce((a, b) => a * b, 1);
  return { images: new Uint8Array(job.trainCount * features), labels: new Uint8Array(job.trainCount), count: job.trainCount, features };
}

/**
 * Writes each lease's samples, as the coordinator sends them to a worker without the data set,
 * into that worker's training split at the plan's indices before the lease is computed: `gather`
 * and everything after it then run as on a worker that loaded the data set, with the same bits.
 */
export class ReceivedSamples {
  private readonly images: Uint8Array;

  /** @param train an empty split from emptyTrainingSplit, which this fills */
  constructor(
    private readonly train: Split,
    private readonly plan: DataPlan,
    private readonly numClasses: number,
  ) {
    if (!(train.images instanceof Uint8Array)) throw new RangeError('ReceivedSamples writes bytes: pass the split of emptyTrainingSplit');
    this.images = train.images;
  }

  /**
   * Writes the lease's rows into the split. Everything is checked first: a refused lease leaves
   * the split as it was.
   * @throws ProtocolError E_MALFORMED (no samples), E_BAD_LENGTH (not the samples of the lease's
   *   micro-batches), E_RANGE (a step or micro-batch outside the plan, checkLeaseInPlan; a label
   *   that is not a class)
   */
  write(lease: MessageOf<'lease'>): void {
    const { images, labels, microBatchIds: ids } = lease;
    const { features } = this.train;
    checkLeaseInPlan(lease, this.plan);
    const { microBatchSize } = this.plan;
    const where = leaseWhere(lease);
    const refuse: (code: 'E_MALFORMED' | 'E_BAD_LENGTH' | 'E_RANGE', detail: string) => never = (code, detail) => {
      throw new ProtocolError(code, `${where} ${detail}`, { ref: lease.seq });
    };
    if (images === undefined || labels === undefined) {
      refuse(
        'E_MALFORMED',
        'carries no samples, and this worker has no data set (it registered with samples); help: run the coordinator of the same dptrain release as the worker, or give the worker the data set',
      );
    }
    const samples = ids.length * microBatchSize;
    if (labels.length !== samples || images.length !== samples * features) {
      refuse(
        'E_BAD_LENGTH',
        `carries ${labels.length} labels and ${images.length} image bytes; its ${ids.length} micro-batches of ${microBatchSize} samples of ${features} bytes need ${samples} and ${samples * features}`,
      );
    }
    const bad = labels.findIndex((label) => label >= this.numClasses);
    if (bad >= 0) refuse('E_RANGE', `carries label ${labels[bad]} for its sample ${bad}; the job's classes are 0..${this.numClasses - 1}`);

    let s = 0;
    for (const id of ids) {
      for (const index of this.plan.microBatch(lease.step, id)) {
        this.images.set(images.subarray(s * features, (s + 1) * features), index * features);
        this.train.labels[index] = labels[s++];
      }
    }
  }
}
