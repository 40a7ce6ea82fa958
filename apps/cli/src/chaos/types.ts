import type { Logger } from '../logger.js';

/** Options of `dptrain chaos`. */
export interface ChaosOptions {
  /** A scenario name or number, or 'all'. */
  readonly scenario: string;
  /** Where the reference run, each scenario's run folder and chaos.json go. */
  readonly out: string;
  /** Seed of every fault proxy's generator (printed). @default 1 */
  readonly seed: number;
  /** @default 'cpu' */
  readonly backend: 'cpu' | 'wasm';
  /** The cluster's layout: `colocated` runs `dptrain local --colocate` (each worker serves a shard). @default 'separate' */
  readonly layout?: Layout;
}

export type Layout = 'separate' | 'colocated';

/** One row of the chaos table (also written to chaos.json). */
export interface ChaosRow {
  readonly scenario: string;
  readonly fault: string;
  readonly invariant: string;
  /** 'pass', 'FAIL', 'skipped: …' or 'not yet supported: …'. */
  readonly result: string;
  readonly seconds: number;
  readonly detail: string;
}

export interface Context {
  readonly out: string;
  readonly job: readonly string[];
  readonly seed: number;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly layout: Layout;
  /** The fault-free `dptrain train` parameters of the same job. */
  reference(): Promise<Buffer>;
}

export interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly skipped?: string;
}

export interface Scenario {
  readonly id: number;
  readonly name: string;
  readonly fault: string;
  readonly invariant: string;
  /** The cluster feature the scenario waits for; the scenario is listed, not run. */
  readonly missing?: string;
  /** The layouts the scenario applies to. @default ['separate'] */
  readonly layouts?: readonly Layout[];
  readonly run?: (ctx: Context, dir: string) => Promise<Outcome>;
}
