// The workers, the shards, the faults and the job's configuration, from the coordinator's status.
import { byId, h, s } from './dom.js';
import { bytes, count, duration, NONE } from './format.js';

/**
 * @typedef {{ computeMs: number, pullMs: number, pushMs: number, waitMs: number }} TimeSplit
 * @typedef {{ workerId: number, name: string, backend: string, state: string, leases: number, microBatches: number, timing: TimeSplit, lastSeenAt?: number }} WorkerRow
 * @typedef {{ shard: number, version: number, accepted: number, bytesIn: number, bytesOut: number, applyMs: number }} ShardRow
 * @typedef {{ kind: string, workerId: number, name: string, step: number, microBatchIds: number[], action: string, atMs: number }} Fault
 */

const PHASES = /** @type {const} */ (['compute', 'pull', 'push', 'wait']);

/** What the page calls a worker's state: a dead worker is lost (its work went to the others). */
/** @type {Record<string, string>} */
const STATE_NAMES = { idle: 'idle', busy: 'working', dead: 'lost', quarantined: 'quarantined' };

/**
 * Each phase's share of a worker's time, in PHASES order.
 * @param {TimeSplit} timing
 * @returns {number[]}
 */
export function shares(timing) {
  const ms = PHASES.map((phase) => timing[`${phase}Ms`] ?? 0);
  const total = ms.reduce((a, b) => a + b, 0);
  return ms.map((m) => (total > 0 ? m / total : 0));
}

/**
 * A bar of the four phases (SVG: its widths are attributes, which the page's style policy allows).
 * @param {number[]} parts
 */
function splitBar(parts) {
  let x = 0;
  const rects = parts.map((part, i) => {
    const rect = s('rect', { class: PHASES[i], x: x * 100, y: 0, width: part * 100, height: 10 });
    x += part;
    return rect;
  });
  return s('svg', { class: 'split', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' }, rects);
}

/**
 * @param {WorkerRow[]} workers
 * @param {number} at the status's wall clock (the heartbeats are on the coordinator's)
 */
export function showWorkers(workers, at) {
  const rows = workers.map((w) => {
    const parts = shares(w.timing);
    const heard = typeof w.lastSeenAt === 'number' ? `${duration(Math.max(0, at - w.lastSeenAt) / 1000)} ago` : NONE;
    return h('tr', { 'data-worker-id': w.workerId, 'data-name': w.name, 'data-state': w.state, 'data-leases': w.leases, class: `state-${w.state}` }, [
      h('th', { scope: 'row' }, [w.name, h('span', { class: 'id' }, [` #${w.workerId}`])]),
      h('td', { class: 'state' }, [STATE_NAMES[w.state] ?? w.state]),
      h('td', { class: 'num' }, [heard]),
      h('td', { class: 'num' }, [count(w.leases)]),
      h('td', { class: 'num' }, [count(w.microBatches)]),
      h('td', { class: 'bar' }, [splitBar(parts)]),
      ...parts.map((part) => h('td', { class: 'num' }, [`${Math.round(part * 100)}%`])),
    ]);
  });
  byId('workers-body').replaceChildren(...rows);
  byId('workers-count').textContent = `${workers.filter((w) => w.state === 'idle' || w.state === 'busy').length} live of ${workers.length}`;
}

/** @param {(ShardRow | null)[]} shards */
export function showShards(shards) {
  const rows = shards.map((shard, i) =>
    shard
      ? h('tr', { 'data-shard': shard.shard }, [
          h('th', { scope: 'row' }, [`ps-${shard.shard}`]),
          h('td', { class: 'num' }, [count(shard.version)]),
          h('td', { class: 'num' }, [duration(shard.applyMs / 1000)]),
          h('td', { class: 'num' }, [bytes(shard.bytesIn)]),
          h('td', { class: 'num' }, [bytes(shard.bytesOut)]),
          h('td', { class: 'num' }, [count(shard.accepted)]),
        ])
      : h('tr', { 'data-shard': i }, [h('th', { scope: 'row' }, [`ps-${i}`]), h('td', { colspan: 5 }, ['not reporting'])]),
  );
  byId('shards-body').replaceChildren(...rows);
}

/** @param {Fault[]} faults oldest first */
export function showFaults(faults) {
  const items = faults
    .slice()
    .reverse()
    .map((f) =>
      h('li', { class: `fault ${f.kind}`, 'data-kind': f.kind }, [
        h('span', { class: 'kind' }, [f.kind]),
        h('span', { class: 'who' }, [f.workerId >= 0 ? `${f.name} #${f.workerId}` : f.name]),
        h('span', { class: 'when' }, [`step ${count(f.step)} · ${duration(f.atMs / 1000)} in`]),
        h('span', { class: 'action' }, [f.action]),
      ]),
    );
  byId('faults-list').replaceChildren(...(items.length > 0 ? items : [h('li', { class: 'none' }, ['none so far'])]));
  byId('faults-count').textContent = String(faults.length);
}

/**
 * The job's configuration, key by key.
 * @param {Record<string, unknown>} config
 * @param {Record<string, unknown>} plan
 */
export function showConfig(config, plan) {
  const entries = [...Object.entries(plan), ...Object.entries(config)];
  byId('config').replaceChildren(
    ...entries.flatMap(([key, value]) => [
      h('dt', {}, [key]),
      h('dd', {}, [value === null || value === undefined ? NONE : typeof value === 'object' ? JSON.stringify(value) : String(value)]),
    ]),
  );
}
