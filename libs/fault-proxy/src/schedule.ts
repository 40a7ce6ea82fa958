import { FaultProxyError } from './errors.js';

/** Which way bytes flow through the proxy: from the client that connected to it, or back. */
export type Direction = 'client-to-server' | 'server-to-client';

/**
 * Which WebSocket messages a per-message rule hits. Each rule counts, from 1, only the messages
 * that pass its own filters (`direction`, `connection`, `minPayloadBytes`), in arrival order over
 * every connection of the proxy; so `{ minPayloadBytes: 1000, messages: [3] }` is the third large
 * message. A message is hit when its index is listed in `messages`, or else when a draw from the
 * proxy's seeded generator is below `probability` (one draw per filtered message and rule, in rule
 * order, so the seed and the message order fix every decision).
 */
export interface MessageSelector {
  /** 1-based indices among the messages this rule's filters let through. @default [] */
  readonly messages?: readonly number[];
  /** Chance of hitting each filtered message not listed in `messages`, in [0, 1]. @default 0 */
  readonly probability?: number;
  /** Only messages whose first frame carries at least this many payload bytes. @default 0 */
  readonly minPayloadBytes?: number;
  /** Only messages on the nth connection the proxy accepted (1-based). @default every connection */
  readonly connection?: number;
  /** @default 'client-to-server' (the masked frames a worker sends) */
  readonly direction?: Direction;
}

/** Hold every frame (or chunk) for `ms` plus a uniform draw in [0, jitterMs); order is kept. */
export interface DelayRule {
  readonly kind: 'delay';
  readonly ms: number;
  /** @default 0 */
  readonly jitterMs?: number;
  /** @default both directions */
  readonly direction?: Direction;
}

/** Forward a hit message twice, the second copy right after the first's last frame. */
export interface DuplicateRule extends MessageSelector {
  readonly kind: 'duplicate';
}

/** Forward none of a hit message's frames (the connection stays up). */
export interface DropRule extends MessageSelector {
  readonly kind: 'drop';
}

/**
 * Forward the first `fraction` of a hit message's first frame, then tear the connection down
 * mid-frame: the client gets a TCP RST (ECONNRESET); the server gets the cut bytes and then the
 * end of the stream (a FIN, because an RST may discard bytes still in its receive queue).
 */
export interface ResetRule extends MessageSelector {
  readonly kind: 'reset';
  /** Share of the frame's bytes forwarded before the reset, in (0, 1); at least one byte. @default 0.5 */
  readonly fraction?: number;
}

/**
 * From `atMs` after the proxy starts listening, for `forMs`, accept bytes in both directions and
 * forward nothing: whole frames vanish, connections stay open, a peer that closes meanwhile is
 * seen closing only when the hole ends (as after a partition heals).
 */
export interface BlackholeRule {
  readonly kind: 'blackhole';
  readonly atMs: number;
  readonly forMs: number;
}

export type FaultRule = DelayRule | DuplicateRule | DropRule | ResetRule | BlackholeRule;
export type MessageRule = DuplicateRule | DropRule | ResetRule;

export function isMessageRule(rule: FaultRule): rule is MessageRule {
  return rule.kind === 'duplicate' || rule.kind === 'drop' || rule.kind === 'reset';
}

/**
 * Checks every rule once at start-up.
 * @throws FaultProxyError E_SCHEDULE naming the rule (by index), the field and its value
 */
export function validateSchedule(schedule: readonly FaultRule[], protocol: 'websocket' | 'tcp'): void {
  schedule.forEach((rule, i) => {
    const where = `schedule[${i}] (${rule.kind})`;
    const fail = (field: string, value: unknown, want: string): never => {
      throw new FaultProxyError('E_SCHEDULE', `${where}.${field} is ${JSON.stringify(value)}; give ${want}`);
    };
    const nonNegative = (field: string, value: number | undefined): void => {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) fail(field, value, 'a finite number ≥ 0');
    };
    switch (rule.kind) {
      case 'delay':
        nonNegative('ms', rule.ms);
        nonNegative('jitterMs', rule.jitterMs);
        break;
      case 'blackhole':
        nonNegative('atMs', rule.atMs);
        nonNegative('forMs', rule.forMs);
        break;
      case 'duplicate':
      case 'drop':
      case 'reset': {
        if (protocol !== 'websocket') fail('kind', rule.kind, "protocol 'websocket': per-message faults need the WebSocket framing");
        const p = rule.probability;
        if (p !== undefined && !(p >= 0 && p <= 1)) fail('probability', p, 'a probability in [0, 1]');
        for (const n of rule.messages ?? [])
          if (!Number.isSafeInteger(n) || n < 1) fail('messages', rule.messages, 'message indices ≥ 1 (the first message is 1)');
        nonNegative('minPayloadBytes', rule.minPayloadBytes);
        if (rule.connection !== undefined && !(Number.isSafeInteger(rule.connection) && rule.connection >= 1))
          fail('connection', rule.connection, 'a connection number ≥ 1');
        if (rule.kind === 'reset' && rule.fraction !== undefined && !(rule.fraction > 0 && rule.fraction < 1))
          fail('fraction', rule.fraction, 'a share strictly between 0 and 1');
        break;
      }
      default:
        fail('kind', (rule as { kind: unknown }).kind, "one of 'delay', 'duplicate', 'drop', 'reset', 'blackhole'");
    }
  });
}

/** What one message rule decides for one message; counts per rule so indices follow its filters. */
export class MessageRuleState {
  private count = 0;

  constructor(readonly rule: MessageRule) {}

  /** Whether the rule hits this message; draws from `random` only for messages its filters pass. */
  hits(message: { direction: Direction; connection: number; payloadBytes: number }, random: () => number): boolean {
    const r = this.rule;
    if (message.direction !== (r.direction ?? 'client-to-server')) return false;
    if (r.connection !== undefined && message.connection !== r.connection) return false;
    if (message.payloadBytes < (r.minPayloadBytes ?? 0)) return false;
    this.count++;
    if (r.messages?.includes(this.count)) return true;
    return (r.probability ?? 0) > 0 && random() < r.probability!;
  }
}
