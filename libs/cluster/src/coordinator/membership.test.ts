import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Connection, type MessageOf } from '@dptrain/protocol';
import { silentLogger } from '@dptrain/log';
import { planSizes } from '@dptrain/job';
import { JobState, WorkerState } from '../lifecycle.js';
import { tinyJob } from '../testing.js';
import { JobRun } from './job-run.js';
import { Membership } from './membership.js';
import { Refusals } from './refusals.js';
import { workerConnection } from './test-support.js';
import type { WorkerEntry } from './worker-entry.js';

/** Membership around fakes: shards ready unless told, a lease book that holds nothing, a clock the test sets. */
function membership(overrides: Record<string, unknown> = {}) {
  const job = tinyJob({ quarantineAfter: 2, workerlessTimeoutMs: 1_000, ...overrides });
  const calls = { joined: 0, schedule: 0, lost: [] as number[] };
  const world = { now: 0, shardsReady: true };
  const run = new JobRun({ log: silentLogger, stop: () => undefined, step: () => 0 });
  const members = new Membership({
    job,
    plan: planSizes(job),
    run,
    refusals: new Refusals(),
    shards: { allReady: () => world.shardsReady, readyUrls: () => ['memory://ps-0'] },
    leases: { lose: (w) => void calls.lost.push(w.id) },
    step: () => 0,
    joined: () => void calls.joined++,
    schedule: () => void calls.schedule++,
    log: silentLogger,
    clock: () => world.now,
  });
  /** Registers a worker; resolves with its end of the connection and its entry once admitted. */
  const join = async (
    name: string,
    workerId?: number,
  ): Promise<{ end: Connection; coordinatorEnd: Connection; entry: WorkerEntry; registered: MessageOf<'registered'> }> => {
    const { workerEnd, coordinatorEnd } = workerConnection();
    coordinatorEnd.on('message', (msg) => msg.type === 'register' && members.register(coordinatorEnd, msg));
    const registered = await workerEnd.request({ type: 'register', name, pid: 1, backend: 'cpu', ...(workerId === undefined ? {} : { workerId }) });
    return { end: workerEnd, coordinatorEnd, entry: members.byConnection(coordinatorEnd)!, registered };
  };
  return { members, run, calls, world, join };
}

afterEach(() => vi.useRealTimers());

describe('Membership', () => {
  it('marks a worker dead once it is silent for longer than the timeout, counting only heartbeats on its own connection', async () => {
    const { members, run, calls, world, join } = membership();
    const { end, coordinatorEnd, entry } = await join('w');
    const closed = new Promise<number>((resolve) => end.on('close', (code) => resolve(code)));
    world.now = 800;
    members.heartbeat(coordinatorEnd, entry.id);
    world.now = 1_500;
    members.heartbeat(workerConnection().coordinatorEnd, entry.id);
    members.expireSilent(1_800, 1_000);
    expect(entry.state).toBe(WorkerState.Idle);
    members.expireSilent(1_801, 1_000);
    expect(entry.state).toBe(WorkerState.Dead);
    expect(await closed).toBe(4011);
    expect(calls).toMatchObject({ lost: [entry.id], schedule: 1 });
    expect(run.faults).toEqual([expect.objectContaining({ kind: 'worker-timeout', name: 'w', action: 'worker marked dead; it held no lease' })]);
  });

  it('holds the registrations that arrive before every shard is ready, then admits them with the shard URLs', async () => {
    const { members, calls, world, join } = membership();
    world.shardsReady = false;
    const joining = join('early');
    await vi.waitFor(() => expect(members.connected()).toBe(1));
    expect(calls.joined).toBe(0);
    world.shardsReady = true;
    members.admitWaiting();
    const { registered, entry } = await joining;
    expect(registered).toMatchObject({ workerId: 0, generation: 0, shardUrls: ['memory://ps-0'] });
    expect([entry.state, calls.joined]).toEqual([WorkerState.Idle, 1]);
  });

  it('lists the idle workers by id, whichever registered first', async () => {
    const { members, join } = membership();
    await join('worker-1', 1);
    await join('worker-0', 0);
    expect(members.idle().map((w) => [w.id, w.name])).toEqual([
      [0, 'worker-0'],
      [1, 'worker-1'],
    ]);
  });

  it('quarantines a worker at quarantineAfter strikes: its lease is taken and it is told why', async () => {
    const { members, run, calls, join } = membership();
    const { end, entry } = await join('bad');
    const shutdown = new Promise<MessageOf<'shutdown'>>((resolve) => end.on('message', (m) => m.type === 'shutdown' && resolve(m)));
    members.strike(entry, 0, [3], 'refused as poisoned');
    expect([entry.state, calls.lost]).toEqual([WorkerState.Idle, []]);
    members.strike(entry, 1, [0], 'refused as poisoned');
    expect([entry.state, calls.lost]).toEqual([WorkerState.Quarantined, [entry.id]]);
    expect((await shutdown).reason).toBe('quarantined: 2 of its micro-batches were refused as poisoned; quarantineAfter is 2');
    expect(run.faults.map((f) => f.kind)).toEqual(['worker-quarantined']);
  });

  it('fails the job after workerlessTimeoutMs without a live worker; a worker joining in time stops the clock', async () => {
    const { members, run, join } = membership();
    run.to(JobState.Training);
    const first = await join('first');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    members.disconnected(first.coordinatorEnd);
    vi.advanceTimersByTime(999);
    await join('second');
    vi.advanceTimersByTime(10_000);
    expect(run.state).toBe(JobState.Training);
    const second = members.all()[1];
    members.disconnected(second.connection);
    vi.advanceTimersByTime(1_000);
    await expect(run.done).rejects.toThrow(/^E_CLOSED: no live worker for 1000 ms \(2 registered: 0 quarantined, the others dead\) at step 0 of 8/);
  });
});
