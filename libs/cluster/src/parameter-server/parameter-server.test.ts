import { accumulate, scale } from '@dptrain/optim';
import { createMemoryPair, type Connection } from '@dptrain/protocol';
import { UpdateRule } from '@dptrain/training';
import { describe, expect, it } from 'vitest';
import { tinyJob } from '../testing.js';
import type { JobDescription } from '@dptrain/job';
import { ParameterServer } from './parameter-server.js';

/** The bytes of a view (the shard's parameters are a view into its optimizer's memory). */
function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

const P = 26; // MLP 3-4-2: 3·4 + 4 + 4·2 + 2

function serve(job: JobDescription, shard = 0): { ps: ParameterServer; worker: Connection; inject: (bytes: Uint8Array) => void } {
  const ps = new ParameterServer({ job, shard });
  const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount: P } }, b: { role: 'ps', validateOptions: ps.validateOptions(P) } });
  ps.attach(pair.b);
  return { ps, worker: pair.a, inject: (bytes) => pair.inject(pair.b, bytes) };
}

/** Gradient of micro-batch `id`: distinct, exactly representable values (id + 1)·(i + 1)/64. */
function grad(id: number, length = P): Float32Array {
  return Float32Array.from({ length }, (_, i) => ((id + 1) * (i + 1)) / 64);
}

function push(worker: Connection, step: number, id: number, grads = grad(id)) {
  return worker.request({ type: 'push', step, microBatchId: id, version: step, generation: 0, offset: 0, grads, loss: 0.5, samples: 2 });
}

describe('ParameterServer (sync)', () => {
  it('folds out-of-order pushes in id order: the same bits as in order and as the reference step', async () => {
    const job = tinyJob();
    const inOrder = serve(job);
    const shuffled = serve(job);
    for (const id of [0, 1, 2, 3]) await push(inOrder.worker, 0, id);
    for (const id of [2, 0, 3, 1]) await push(shuffled.worker, 0, id);
    expect(inOrder.ps.version).toBe(1);
    expect(shuffled.ps.version).toBe(1);
    // Reference: acc = ((g0 + g1) + g2) + g3 in float32, scaled by 1/4, one Adam step from the init.
    const fresh = new ParameterServer({ job, shard: 0 });
    const expected = fresh.params.slice();
    const acc = new Float32Array(P);
    for (const id of [0, 1, 2, 3]) accumulate(acc, grad(id));
    scale(acc, 1 / 4);
    new UpdateRule(job.config, P, 8, 8).apply(expected, acc);
    expect(bytes(inOrder.ps.params).equals(bytes(expected))).toBe(true);
    expect(bytes(shuffled.ps.params).equals(bytes(expected))).toBe(true);
    // Adam's first step moves each weight by lr·sign(g) (bias-corrected m/√v = ±1, up to eps): a real change.
    expect(expected[0]).not.toBe(fresh.params[0]);
  });

  it('counts the wire bytes of every connection, closed ones included, and the time spent applying', async () => {
    const job = tinyJob();
    const { ps, worker } = serve(job);
    expect(ps.status()).toMatchObject({ applyMs: 0, bytesIn: 0, bytesOut: 0 });
    for (const id of [0, 1, 2, 3]) await push(worker, 0, id);
    const reply = await worker.request({ type: 'pull', step: 1 });
    const afterStep = ps.status();
    // Frames carry headers besides their tensors: at least the four gradients in, the parameters out.
    expect(afterStep.bytesIn).toBe(worker.stats.bytesOut);
    expect(afterStep.bytesOut).toBe(worker.stats.bytesIn);
    expect(afterStep.bytesIn as number).toBeGreaterThan(4 * 4 * P);
    expect(afterStep.bytesOut as number).toBeGreaterThan(reply.values.byteLength);
    expect(afterStep.applyMs as number).toBeGreaterThan(0);
    // A second worker that pushes and leaves still counts.
    const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount: P } }, b: { role: 'ps', validateOptions: ps.validateOptions(P) } });
    ps.attach(pair.b);
    await push(pair.a, 1, 0);
    const second = pair.a.stats.bytesOut;
    pair.a.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ps.status().bytesIn).toBe(worker.stats.bytesOut + second);
  });

  it('acknowledges a second push of the same micro-batch as duplicate and ignores it', async () => {
    const { ps, worker } = serve(tinyJob());
    expect((await push(worker, 0, 1)).status).toBe('accepted');
    const again = await push(worker, 0, 1, grad(7));
    expect(again.status).toBe('duplicate');
    for (const id of [0, 2, 3]) await push(worker, 0, id);
    const reference = serve(tinyJob());
    for (const id of [0, 1, 2, 3]) await push(reference.worker, 0, id);
    expect([...ps.params]).toEqual([...reference.ps.params]);
    // A push for a step already applied is a duplicate too.
    expect((await push(worker, 0, 2)).status).toBe('duplicate');
    expect(ps.counters).toMatchObject({ accepted: 4, duplicate: 2 });
  });

  it('refuses a wrong-length and a NaN gradient with their codes, parameters unchanged', async () => {
    const { ps, worker, inject } = serve(tinyJob());
    const before = ps.params.slice();
    const refused: string[] = [];
    worker.on('message', (m) => m.type === 'error' && refused.push(m.code));
    await expect(push(worker, 0, 0, grad(0, P - 1))).rejects.toMatchObject({ code: 'E_BAD_LENGTH' });
    const nan = grad(0);
    nan[5] = Number.NaN;
    await expect(push(worker, 0, 0, nan)).rejects.toMatchObject({ code: 'E_NON_FINITE' });
    await expect(push(worker, 0, 4)).rejects.toMatchObject({ code: 'E_RANGE' });
    inject(new Uint8Array([0xc1, 0xc1, 0xc1]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(refused).toEqual(['E_MALFORMED']);
    expect([...ps.params]).toEqual([...before]);
    expect(ps.version).toBe(0);
  });

  it('holds a pull until its step is applied', async () => {
    const { ps, worker } = serve(tinyJob());
    let answered = false;
    const pulled = worker.request({ type: 'pull', step: 1, raw: true }).then((reply) => {
      answered = true;
      return reply;
    });
    for (const id of [0, 1, 2]) await push(worker, 0, id);
    expect(answered).toBe(false);
    await push(worker, 0, 3);
    const reply = await pulled;
    expect(reply).toMatchObject({ step: 1, version: 1, offset: 0 });
    expect([...reply.values]).toEqual([...ps.params]);
  });

  it('answers a pull of version − 1 from a copy of that point, and refuses older steps E_STALE', async () => {
    const { ps, worker } = serve(tinyJob({ optimizer: 'nesterov', momentum: 0.9, lr: 0.1 }));
    for (const id of [0, 1, 2, 3]) await push(worker, 0, id);
    const point1 = await worker.request({ type: 'pull', step: 1 });
    const raw1 = await worker.request({ type: 'pull', step: 1, raw: true });
    // Copies: the reply's arrays are views of the frame, which stays as received.
    const [pointBits, rawBits] = [bytes(point1.values), bytes(raw1.values)].map((b) => Buffer.from(b));
    for (const id of [0, 1, 2, 3]) await push(worker, 1, id, grad(id + 4));
    expect(ps.version).toBe(2);
    // Step 1 again, after it was applied: the same bits as before, both the look-ahead and the raw point.
    const again = await worker.request({ type: 'pull', step: 1 });
    const againRaw = await worker.request({ type: 'pull', step: 1, raw: true });
    expect(again).toMatchObject({ step: 1, version: 1 });
    expect(bytes(again.values).equals(pointBits)).toBe(true);
    expect(bytes(againRaw.values).equals(rawBits)).toBe(true);
    // and it is not the current point
    expect(bytes((await worker.request({ type: 'pull', step: 2, raw: true })).values).equals(rawBits)).toBe(false);
    await expect(worker.request({ type: 'pull', step: 0 })).rejects.toMatchObject({ code: 'E_STALE' });
  });

  it('refuses a push whose slice norm exceeds maxGradNorm as poisoned, state untouched', async () => {
    const norm = (g: Float32Array) => Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    // grad(id) grows with id: 0 and 1 are within the bound, 2 is beyond it.
    const bound = (norm(grad(1)) + norm(grad(2))) / 2;
    const { ps, worker } = serve(tinyJob({ maxGradNorm: bound }));
    const before = ps.params.slice();
    for (const id of [0, 1]) expect((await push(worker, 0, id)).status).toBe('accepted');
    const refused = await push(worker, 0, 2);
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toMatch(/^poisoned: /);
    expect(refused.reason).toContain(String(norm(grad(2))).slice(0, 6));
    expect(refused.reason).toContain(String(bound));
    expect(ps.counters).toMatchObject({ accepted: 2, poisoned: 1, rejected: 0 });
    expect(ps.version).toBe(0);
    expect([...ps.params]).toEqual([...before]);
    // The refused micro-batch was not taken: a sound gradient for it completes the step.
    for (const id of [2, 3]) expect((await push(worker, 0, id, grad(0))).status).toBe('accepted');
    expect(ps.version).toBe(1);
  });

  it('hands out the Nesterov look-ahead point, not the parameters, as the gradient point', async () => {
    const { ps, worker } = serve(tinyJob({ optimizer: 'nesterov', momentum: 0.9, lr: 0.1 }));
    for (const id of [0, 1, 2, 3]) await push(worker, 0, id);
    const point = await worker.request({ type: 'pull', step: 1 });
    const raw = await worker.request({ type: 'pull', step: 1, raw: true });
    expect([...raw.values]).toEqual([...ps.params]);
    // After one step the velocity is non-zero, so w + γ(w − w_prev) differs from w.
    expect([...point.values]).not.toEqual([...raw.values]);
  });

  it('serves only its slice when sharded', async () => {
    const job = tinyJob({ psShards: 2 });
    const ps = new ParameterServer({ job, shard: 1 });
    // floor(1·26/2) = 13 to floor(2·26/2) = 26.
    expect(ps.range).toEqual({ offset: 13, length: 13 });
    expect(ps.params.length).toBe(13);
  });
});

describe('ParameterServer (async)', () => {
  it('applies on arrival within the staleness bound and answers stale beyond it', async () => {
    const { ps, worker } = serve(tinyJob({ mode: 'async', staleness: 1 }));
    const at = (step: number, id: number, version: number) =>
      worker.request({ type: 'push', step, microBatchId: id, version, generation: 0, offset: 0, grads: grad(id), loss: 0.5, samples: 2 });
    expect((await at(0, 0, 0)).status).toBe('accepted'); // lag 0, version → 1
    expect((await at(0, 1, 0)).status).toBe('accepted'); // lag 1, version → 2
    const stale = await at(0, 2, 0); // lag 2 > 1
    expect(stale.status).toBe('stale');
    expect(stale.reason).toContain('2 updates behind');
    expect((await at(0, 0, 2)).status).toBe('duplicate');
    expect(ps.version).toBe(2);
    expect(ps.stalenessHistogram).toEqual([1, 1]);
  });
});
