import { describe, expect, it, vi } from 'vitest';
import { createMemoryPair, type Connection, type Message, type MessageOf } from '@dptrain/protocol';
import { trainingSplits } from '@dptrain/training';
import { DATASET, jobOf } from '../testing/in-process-cluster.js';
import { JobState } from '../lifecycle.js';
import { Coordinator, type CoordinatorOptions } from './coordinator.js';
import { LeaseSamples } from './lease-samples.js';

// The coordinator against scripted peers: a fake shard and fake workers that answer exactly as
// each test says, so every fault path is driven on purpose. M = 4 micro-batches per step.
const PARAMS = 100;

/** One peer's end of a connection to the coordinator, with everything it received. */
class Peer {
  readonly inbox: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  constructor(readonly connection: Connection) {
    connection.on('message', (msg) => {
      this.inbox.push(msg);
      this.waiters = this.waiters.filter((w) => (w.match(msg) ? (w.resolve(msg), false) : true));
    });
  }

  /** The next message (or one already received and not yet taken) matching `match`. */
  next<T extends Message['type']>(type: T, match: (m: Extract<Message, { type: T }>) => boolean = () => true): Promise<Extract<Message, { type: T }>> {
    const test = (m: Message): boolean => m.type === type && match(m as Extract<Message, { type: T }>);
    const at = this.inbox.findIndex(test);
    if (at >= 0) return Promise.resolve(this.inbox.splice(at, 1)[0] as Extract<Message, { type: T }>);
    return new Promise((resolve) =>
      this.waiters.push({ match: test, resolve: (m) => (this.inbox.splice(this.inbox.indexOf(m), 1), resolve(m as Extract<Message, { type: T }>)) }),
    );
  }
}

function connect(coordinator: Coordinator, role: 'ps' | 'worker'): Peer {
  const pair = createMemoryPair({ a: { role, validateOptions: { paramCount: PARAMS } }, b: { role: 'coordinator', validateOptions: { paramCount: PARAMS } } });
  coordinator.attach(pair.b);
  return new Peer(pair.a);
}

async function shard(coordinator: Coordinator, version = 0): Promise<Peer> {
  const ps = connect(coordinator, 'ps');
  await ps.connection.request({ type: 'register', name: 'ps-0', pid: 1, backend: 'none', shard: 0, version });
  await ps.connection.send({ type: 'shardReady', shard: 0, url: 'memory://ps-0' });
  return ps;
}

/** A worker registered under `name`; with `samples`, one without the data set. */
async function worker(coordinator: Coordinator, name: string, samples = false): Promise<Peer & { readonly session: string }> {
  const w = connect(coordinator, 'worker');
  const { session } = await w.connection.request({ type: 'register', name, pid: 2, backend: 'cpu', ...(samples ? { samples: true as const } : {}) });
  return Object.assign(w, { session: session! });
}

function done(lease: MessageOf<'lease'>, extra: Partial<MessageOf<'leaseDone'>> = {}): Omit<MessageOf<'leaseDone'>, 'seq'> {
  return {
    type: 'leaseDone',
    leaseId: lease.leaseId,
    step: lease.step,
    microBatchIds: lease.microBatchIds,
    losses: lease.microBatchIds.map(() => 0.5),
    computeMs: 1,
    ...extra,
  };
}

function applied(step: number): Omit<MessageOf<'stepApplied'>, 'seq'> {
  return { type: 'stepApplied', step, version: step + 1, microBatchIds: [0, 1, 2, 3], lr: 0.01, gradNorm: 1, losses: [0.5, 0.5, 0.5, 0.5] };
}

/**
 * A shard and two workers: `first` registered alone and did step 0 (the shard applied it),
 * `second` joined meanwhile; step 1 is then split between them (their leases, in that order).
 */
async function stepOneBetween(coordinator: Coordinator, first: string, second: string) {
  const ps = await shard(coordinator);
  const a = await worker(coordinator, first);
  const lease0 = await a.next('lease');
  const b = await worker(coordinator, second);
  await a.connection.send(done(lease0));
  await ps.connection.send(applied(0));
  const step1 = await Promise.all([a.next('lease', (l) => l.step === 1), b.next('lease', (l) => l.step === 1)]);
  return { ps, workers: [a, b] as const, step1 };
}

function coordinatorOf(overrides: Record<string, unknown>, options: Partial<CoordinatorOptions> = {}): Coordinator {
  // Scripted workers send no heartbeats.
  return new Coordinator({
    job: jobOf({ workerTimeoutMs: 600_000, ...overrides }),
    paramCount: PARAMS,
    evaluate: () => ({ loss: 1, accuracy: 0.5 }),
    ...options,
  });
}

describe('Coordinator fault handling (scripted peers)', () => {
  it('re-leases micro-batches refused as poisoned to another worker and quarantines a worker at quarantineAfter refusals', async () => {
    const c = coordinatorOf({ quarantineAfter: 2, backupAfter: 0 });
    const ps = await shard(c);
    const bad = await worker(c, 'bad');
    const good = await worker(c, 'good');
    // Step 0: bad holds all four (it registered alone first), then its pushes are refused.
    const first = await bad.next('lease');
    expect(first.microBatchIds).toEqual([0, 1, 2, 3]);
    await bad.connection.send(done(first, { microBatchIds: [0, 1], losses: [0.5, 0.5], refused: [2, 3] }));
    // Two refusals reach quarantineAfter: bad is told why and stops; its refused ids go to good.
    const shutdown = await bad.next('shutdown');
    expect(shutdown.reason).toMatch(/^quarantined: 2 of its micro-batches were refused as poisoned/);
    const again = await good.next('lease');
    expect(again).toMatchObject({ step: 0, microBatchIds: [2, 3] });
    await good.connection.send(done(again));
    await ps.connection.send(applied(0));
    const next = await good.next('lease');
    expect(next).toMatchObject({ step: 1, microBatchIds: [0, 1, 2, 3] });
    expect(c.status().faults).toEqual([expect.objectContaining({ kind: 'worker-quarantined', name: 'bad' })]);
    // A quarantined worker cannot come back under its name.
    await expect(bad.connection.request({ type: 'register', name: 'bad', pid: 2, backend: 'cpu', workerId: 0, session: bad.session })).rejects.toThrow(
      /quarantined/,
    );
    // Nor can another peer take its id without its session secret.
    await expect(good.connection.request({ type: 'register', name: 'bad', pid: 3, backend: 'cpu', workerId: 0 })).rejects.toThrow(
      /without that worker's session secret/,
    );
    c.stop();
  });

  it('leases a backup copy of a straggling lease, keeps the first finish and revokes the straggler', async () => {
    const c = coordinatorOf({ backupAfter: 2, backupMinMs: 0 });
    await shard(c);
    const fast = await worker(c, 'fast');
    const first = await fast.next('lease');
    const slow = await worker(c, 'slow');
    // Step 1 opens with both idle and is split between them; fast finishes, slow never answers.
    await fast.connection.send(done(first));
    const [a, b] = await Promise.all([fast.next('lease', (l) => l.step === 1), slow.next('lease', (l) => l.step === 1)]);
    expect([...a.microBatchIds, ...b.microBatchIds].sort()).toEqual([0, 1, 2, 3]);
    await fast.connection.send(done(a));
    const backup = await fast.next('lease', (l) => l.step === 1);
    expect(backup.microBatchIds).toEqual(b.microBatchIds);
    await fast.connection.send(done(backup));
    const revoked = await slow.next('leaseRevoked');
    expect(revoked.leaseId).toBe(b.leaseId);
    // A backup lease is no fault: it is counted, in all and per worker (who straggled, who helped).
    expect(c.status()).toMatchObject({
      faults: [],
      backupLeases: 1,
      workers: [
        expect.objectContaining({ name: 'fast', backupLeases: 1, leasesBackedUp: 0 }),
        expect.objectContaining({ name: 'slow', backupLeases: 0, leasesBackedUp: 1 }),
      ],
    });
    c.stop();
  });

  it("counts a straggler's leaseDone that crossed its revocation as reported again, so the workers' counts add up to the job's", async () => {
    const c = coordinatorOf({ backupAfter: 2, backupMinMs: 0 });
    const {
      workers: [fast, slow],
      step1: [a, b],
    } = await stepOneBetween(c, 'fast', 'slow');
    await fast.connection.send(done(a));
    const backup = await fast.next('lease', (l) => l.step === 1);
    await fast.connection.send(done(backup));
    await slow.next('leaseRevoked');
    // The straggler had finished too: its leaseDone was on its way when the revocation left.
    await slow.connection.send(done(b));
    // A request after it on the same connection is answered once the leaseDone has been taken in.
    await slow.connection.request({ type: 'status' });
    const workers = c.status().workers as unknown as { name: string; microBatches: number; reportedAgain: number }[];
    const counts = Object.fromEntries(workers.map((w) => [w.name, [w.microBatches, w.reportedAgain]]));
    expect(counts).toEqual({ fast: [4 + a.microBatchIds.length + backup.microBatchIds.length, 0], slow: [b.microBatchIds.length, b.microBatchIds.length] });
    c.stop();
  });

  it('gives a new worker the id it asks for when no worker holds it, else the lowest free one', async () => {
    const c = coordinatorOf({ backupAfter: 0 });
    await shard(c);
    const join = async (name: string, workerId?: number): Promise<{ peer: Peer; id: number }> => {
      const peer = connect(c, 'worker');
      const registered = await peer.connection.request({ type: 'register', name, pid: 2, backend: 'cpu', ...(workerId === undefined ? {} : { workerId }) });
      return { peer, id: registered.workerId };
    };
    // worker-1 registers first, as a worker that started up faster would: it still gets id 1.
    const one = await join('worker-1', 1);
    const zero = await join('worker-0', 0);
    const [anyone, taken] = [await join('anyone'), await join('other', 1)];
    expect([one.id, zero.id, anyone.id, taken.id]).toEqual([1, 0, 2, 3]);
    expect((c.status().workers as { workerId: number; name: string }[]).map((w) => `${w.workerId} ${w.name}`)).toEqual([
      '0 worker-0',
      '1 worker-1',
      '2 anyone',
      '3 other',
    ]);
    // A live worker's id stays guarded; a dead one's name and id, without its session, are a
    // restarted process of it, which joins as a new worker.
    await expect(join('worker-1', 1)).rejects.toThrow(/without that worker's session secret/);
    zero.peer.connection.close(1006, 'killed');
    await vi.waitFor(() => expect(c.status().faults).toEqual([expect.objectContaining({ kind: 'worker-disconnected', name: 'worker-0' })]));
    expect((await join('worker-0', 0)).id).toBe(4);
    c.stop();
  });

  it('pauses when a shard is lost, revokes the running leases, and re-leases what the restarted shard had not applied', async () => {
    const c = coordinatorOf({ backupAfter: 0 });
    const ps = await shard(c);
    const w = await worker(c, 'w');
    const lease0 = await w.next('lease');
    await w.connection.send(done(lease0));
    await ps.connection.send(applied(0));
    const lease1 = await w.next('lease', (l) => l.step === 1);
    // The shard dies holding step 1's pushes; the worker's lease is revoked.
    ps.connection.close(1006, 'killed');
    expect((await w.next('leaseRevoked')).leaseId).toBe(lease1.leaseId);
    expect(c.jobState).toBe(JobState.Recovering);
    await w.connection.send(done(lease1, { microBatchIds: [], losses: [] }));
    // Restarted from its checkpoint and log at version 1: all of step 1 is leased again.
    await shard(c, 1);
    const again = await w.next('lease', (l) => l.step === 1);
    expect(again.microBatchIds).toEqual([0, 1, 2, 3]);
    expect(c.jobState).toBe(JobState.Training);
    expect(c.status().faults).toEqual([expect.objectContaining({ kind: 'shard-lost' }), expect.objectContaining({ kind: 'shard-restarted' })]);
    c.stop();
  });

  it('fails with the reason when a shard does not come back in time, or comes back having lost applied steps', async () => {
    const late = coordinatorOf({ shardRestartTimeoutMs: 20 });
    const lost = await shard(late);
    await (await worker(late, 'w')).next('lease');
    lost.connection.close(1006, 'killed');
    await expect(late.done).rejects.toThrow(/shard\(s\) 0 did not come back within 20 ms; restart each with `dptrain ps --shard N --resume`/);

    const behind = coordinatorOf({});
    const ps = await shard(behind);
    const w = await worker(behind, 'w');
    await w.connection.send(done(await w.next('lease')));
    await ps.connection.send(applied(0));
    await w.next('lease', (l) => l.step === 1);
    ps.connection.close(1006, 'killed');
    await expect(shard(behind, 0)).rejects.toThrow(/registered at version 0, but step 0 was already applied everywhere/);
    await expect(behind.done).rejects.toThrow(/lost steps/);
  });

  it('a restarted coordinator continues from its resume point and the steps the shard reports applied', async () => {
    const steps: number[] = [];
    const c = coordinatorOf(
      {},
      { resume: { step: 3, epochLossSum: 1.5, epochSteps: 3, trainLoss: Number.NaN, evalDue: false }, onStep: (r) => void steps.push(r.step) },
    );
    const ps = await shard(c, 5);
    // The shard re-sends the reports the dead coordinator may have missed, older ones included.
    for (const s of [2, 3, 4]) await ps.connection.send(applied(s));
    const w = await worker(c, 'w');
    const lease = await w.next('lease');
    expect(lease.step).toBe(5);
    expect(steps).toEqual([4, 5]);
    expect(c.status().faults).toEqual([expect.objectContaining({ kind: 'coordinator-restarted' })]);
    c.stop();
  });

  it('leases the next step when a worker dies owing the leaseDone of a step the shard already closed', async () => {
    const c = coordinatorOf({ backupAfter: 0 });
    const {
      ps,
      workers: [dying, other],
      step1: [, mine],
    } = await stepOneBetween(c, 'dying', 'other');
    await other.connection.send(done(mine));
    // The shard had every push of step 1 (the dying worker's too) and closes it; then that worker dies.
    await ps.connection.send(applied(1));
    dying.connection.close(1006, 'killed');
    expect(await other.next('lease', (l) => l.step === 2)).toMatchObject({ microBatchIds: [0, 1, 2, 3] });
    c.stop();
  });

  it('fails when no live worker is left for workerlessTimeoutMs, naming the fix', async () => {
    const c = coordinatorOf({ workerlessTimeoutMs: 20 });
    await shard(c);
    const w = await worker(c, 'w');
    await w.next('lease');
    w.connection.close(1006, 'killed');
    await expect(c.done).rejects.toThrow(
      /no live worker for 20 ms .* start workers with `dptrain worker --coordinator <url>`, or raise --workerless-timeout-ms/,
    );
  });

  it('leases again the micro-batches of a running lease its worker answered without them', async () => {
    const c = coordinatorOf({});
    await shard(c);
    const w = await worker(c, 'w');
    const first = await w.next('lease');
    // A worker that gives a lease up (it took it for a revoked one) reports none of its micro-batches.
    await w.connection.send(done(first, { microBatchIds: [], losses: [] }));
    expect(await w.next('lease')).toMatchObject({ step: first.step, microBatchIds: first.microBatchIds });
    c.stop();
  });

  it('refuses a leaseDone for a lease the worker does not hold, or for micro-batches outside it', async () => {
    const c = coordinatorOf({});
    await shard(c);
    const holder = await worker(c, 'holder');
    const other = await worker(c, 'other');
    const lease = await holder.next('lease');
    // A fake completion from a worker that holds nothing, then the holder reporting a foreign id.
    await other.connection.send(done(lease));
    await holder.connection.send(done(lease, { microBatchIds: [0, 9], losses: [0.5, 0.5] }));
    const refusals = [await other.next('error'), await holder.next('error')];
    expect(refusals.map((e) => e.code)).toEqual(['E_RANGE', 'E_RANGE']);
    expect(refusals[0]!.message).toMatch(/leaseDone for lease \d+, which other does not hold/);
    expect(refusals[1]!.message).toMatch(/the lease is step 0 micro-batches 0, 1, 2, 3/);
    expect(c.status().step).toBe(0);
    c.stop();
  });

  it('leases again a step its workers reported done that no shard applied, and quarantines who reported it', async () => {
    // The watchdog waits workerTimeoutMs; scripted workers send no heartbeats, so they are kept alive by hand.
    const c = coordinatorOf({ workerTimeoutMs: 300, quarantineAfter: 1 });
    const ps = await shard(c);
    const fake = await worker(c, 'fake');
    const beat = setInterval(() => void fake.connection.send({ type: 'heartbeat', workerId: 0, generation: 0, sentAtMs: 0 }), 50);
    try {
      const lease = await fake.next('lease');
      // Done at once, nothing pushed: the shard never reports step 0 applied.
      await fake.connection.send(done(lease));
      expect((await fake.next('shutdown')).reason).toMatch(/^quarantined: 4 of its micro-batches were reported done but never reached a shard/);
      const honest = await worker(c, 'honest');
      const again = await honest.next('lease');
      expect(again).toMatchObject({ step: 0, microBatchIds: [0, 1, 2, 3] });
      await honest.connection.send(done(again));
      await ps.connection.send(applied(0));
      expect(await honest.next('lease')).toMatchObject({ step: 1 });
      expect(c.status().faults).toEqual([
        expect.objectContaining({ kind: 'step-stalled' }),
        expect.objectContaining({ kind: 'worker-quarantined', name: 'fake' }),
      ]);
    } finally {
      clearInterval(beat);
      c.stop();
    }
  });
});

describe('Coordinator leases to workers without the data set (scripted peers)', () => {
  const train = trainingSplits(jobOf().config, DATASET).train;
  const rowsOf = (lease: MessageOf<'lease'>) => new LeaseSamples(train, jobOf().config).rows(lease.step, lease.microBatchIds);

  it("sends each lease of a worker that registered with samples its samples' rows, backup leases included, and none to the others", async () => {
    const c = coordinatorOf({ backupAfter: 2, backupMinMs: 0 }, { train });
    await shard(c);
    const fast = await worker(c, 'fast', true);
    const first = await fast.next('lease');
    expect(first.microBatchIds).toEqual([0, 1, 2, 3]);
    const expected = rowsOf(first);
    expect(first.images!.length).toBe(16 * train.features);
    expect([...first.images!]).toEqual([...expected.images]);
    expect([...first.labels!]).toEqual([...expected.labels]);
    const slow = await worker(c, 'slow');
    await fast.connection.send(done(first));
    const [a, b] = await Promise.all([fast.next('lease', (l) => l.step === 1), slow.next('lease', (l) => l.step === 1)]);
    expect([a.images, a.labels].map((t) => t?.length)).toEqual([8 * train.features, 8]);
    expect([...a.labels!]).toEqual([...rowsOf(a).labels]);
    expect([b.images, b.labels]).toEqual([undefined, undefined]);
    await fast.connection.send(done(a));
    // The straggler's micro-batches go to the fast worker as a backup copy, with their samples.
    const backup = await fast.next('lease', (l) => l.step === 1);
    expect(backup.microBatchIds).toEqual(b.microBatchIds);
    expect([...backup.images!]).toEqual([...rowsOf(backup).images]);
    expect([...backup.labels!]).toEqual([...rowsOf(backup).labels]);
    c.stop();
  });

  it('sends the samples again with the re-lease of a lost lease, to a worker that registers again with samples', async () => {
    const c = coordinatorOf({ backupAfter: 0 }, { train });
    await shard(c);
    const w = await worker(c, 'w', true);
    const lost = await w.next('lease');
    w.connection.close(1006, 'killed');
    const again = connect(c, 'worker');
    await again.connection.request({ type: 'register', name: 'w', pid: 2, backend: 'cpu', workerId: 0, session: w.session, samples: true });
    const released = await again.next('lease');
    expect(released).toMatchObject({ step: 0, microBatchIds: lost.microBatchIds });
    expect([...released.images!]).toEqual([...rowsOf(released).images]);
    expect([...released.labels!]).toEqual([...lost.labels!]);
    c.stop();
  });

  it('refuses a worker asking for samples when it was started without the training split, naming the fix', async () => {
    const c = coordinatorOf({ backupAfter: 0 });
    await shard(c);
    await expect(worker(c, 'browser', true)).rejects.toThrow(
      /browser registers without a data set \(samples\), but this coordinator was started without the training split to send; help: start the worker with the data set/,
    );
    c.stop();
  });
});
