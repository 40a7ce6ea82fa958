import { gather, makeSyntheticDataset, type Split } from '@dptrain/data';
import { planOf } from '@dptrain/job';
import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { DATASET, jobOf } from '../testing/in-process-cluster.js';
import { LeaseSamples, checkSampleWorker } from './lease-samples.js';

const register = { type: 'register', seq: 4, name: 'browser-1', pid: 1, backend: 'wasm', samples: true } as MessageOf<'register'>;
const peer = (maxPayload: number) => ({ peer: { maxPayload } }) as Connection;

describe('LeaseSamples', () => {
  it("gives rows from which gather reads exactly what it reads from the split at the plan's indices", () => {
    const { config } = jobOf({ epochs: 2 });
    const plan = planOf(config, DATASET.train.count);
    const samples = new LeaseSamples(DATASET.train, config);
    // A step of the second epoch (another shuffle), micro-batches out of order.
    const step = plan.stepsPerEpoch + 3;
    const ids = [2, 0, 3];
    const rows = samples.rows(step, ids);
    const received: Split = { images: rows.images, labels: rows.labels, count: rows.labels.length, features: DATASET.train.features };
    const fromRows = gather(
      received,
      Array.from({ length: received.count }, (_, i) => i),
    );
    const fromSplit = gather(
      DATASET.train,
      ids.flatMap((id) => [...plan.microBatch(step, id)]),
    );
    expect(fromRows.count).toBe(12);
    expect(Buffer.from(fromRows.x.buffer).equals(Buffer.from(fromSplit.x.buffer))).toBe(true);
    expect([...fromRows.y]).toEqual([...fromSplit.y]);
  });

  it('refuses a split of float images at construction', () => {
    const floats: Split = { ...DATASET.train, images: new Float32Array(DATASET.train.images.length) };
    expect(() => new LeaseSamples(floats, jobOf().config)).toThrow(/float32 images; a coordinator sends workers only byte images/);
  });

  it("refuses a worker whose frame bound cannot take a whole step's lease with its samples (E_TOO_LARGE), naming the size", () => {
    // 512 samples of 784 bytes in one step: about 400 KB.
    const big = makeSyntheticDataset({ trainSize: 512, testSize: 8 });
    const samples = new LeaseSamples(big.train, jobOf({ batchSize: 512, microBatchSize: 8 }).config);
    expect(() => samples.checkFits(peer(16 << 20), register)).not.toThrow();
    let refused: unknown;
    try {
      samples.checkFits(peer(300_000), register);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ProtocolError);
    expect((refused as ProtocolError).code).toBe('E_TOO_LARGE');
    expect((refused as ProtocolError).message).toMatch(
      /a lease of a whole step with its samples takes up to 4\d{5} bytes and browser-1 accepts frames of 300000/,
    );
    expect((refused as ProtocolError).ref).toBe(4);
  });

  it('lets a worker with the data set register anywhere; one without needs a coordinator with the split', () => {
    expect(() => checkSampleWorker(undefined, peer(1 << 20), { ...register, samples: undefined })).not.toThrow();
    expect(() => checkSampleWorker(undefined, peer(1 << 20), register)).toThrow(/E_ROLE: browser-1 registers without a data set/);
    expect(() => checkSampleWorker(new LeaseSamples(DATASET.train, jobOf().config), peer(1 << 20), register)).not.toThrow();
  });
});
