import { ProtocolError, type ReplyOf } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { pushVerdict } from './push-verdict.js';

function ack(status: ReplyOf<'push'>['status'], reason?: string): Promise<ReplyOf<'push'>> {
  return Promise.resolve({ type: 'pushAck', seq: 9, re: 4, step: 7, microBatchId: 2, status, ...(reason ? { reason } : {}) });
}

describe('pushVerdict', () => {
  it('accepted and duplicate: the shard holds the gradient', async () => {
    expect(await pushVerdict(ack('accepted'), false)).toEqual({ status: 'applied' });
    expect(await pushVerdict(ack('duplicate', 'already received'), false)).toEqual({ status: 'applied' });
  });

  it("the shard's E_NON_FINITE error is a refusal of the micro-batch, with the shard's message as reason", async () => {
    const error = new ProtocolError('E_NON_FINITE', 'E_NON_FINITE: push.grads[3] is NaN', { remote: true, verbatim: true });
    expect(await pushVerdict(Promise.reject(error), false)).toEqual({ status: 'refused', reason: 'E_NON_FINITE: push.grads[3] is NaN' });
  });

  it('rejected with a reason starting poisoned: is a refusal; any other rejection fails the lease as today', async () => {
    expect(await pushVerdict(ack('rejected', 'poisoned: gradient norm 41.5 is over maxGradNorm 10'), false)).toEqual({
      status: 'refused',
      reason: 'poisoned: gradient norm 41.5 is over maxGradNorm 10',
    });
    await expect(pushVerdict(ack('rejected', 'step 7 is ahead of shard 0'), false)).rejects.toMatchObject({
      code: 'E_STALE',
      message: expect.stringContaining('step 7 micro-batch 2 was rejected: step 7 is ahead'),
    });
  });

  it('stale: re-leased in async mode, a lost lease in sync mode', async () => {
    expect(await pushVerdict(ack('stale', '3 updates behind'), true)).toEqual({ status: 'stale' });
    await expect(pushVerdict(ack('stale', '3 updates behind'), false)).rejects.toMatchObject({ code: 'E_STALE' });
  });

  it('errors that are not the shard refusing the gradient pass through', async () => {
    const closed = new ProtocolError('E_CLOSED', 'push seq 4 got no reply');
    await expect(pushVerdict(Promise.reject(closed), false)).rejects.toBe(closed);
    // Raised on this side, not by the shard: not a verdict on the micro-batch.
    const local = new ProtocolError('E_NON_FINITE', 'push.loss is NaN');
    await expect(pushVerdict(Promise.reject(local), false)).rejects.toBe(local);
  });
});
