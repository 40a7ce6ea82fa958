import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natUnsupported, netnsUnsupported } from '@dptrain/fault-proxy';
import { runCli } from '../cli/run-cli.js';

export interface ChaosRow {
  readonly scenario: string;
  readonly result: string;
  readonly detail: string;
}

export interface ScenarioRun {
  readonly code: number;
  readonly row: ChaosRow;
  readonly out: string;
  readonly stdout: string;
  /** The scenario's params.safetensors equals the fault-free `dptrain train` reference, byte for byte. */
  readonly bitIdentical: boolean;
  /** `faults[].kind` from the scenario run's summary.json. */
  readonly faults: string[];
  /** `backupLeases` from the scenario run's summary.json (0 when absent). */
  readonly backupLeases: number;
  /** `workers` from the scenario run's summary.json. */
  readonly workers: { readonly workerId: number; readonly name: string; readonly leasesBackedUp: number }[];
}

/** Runs `dptrain chaos --scenario NAME` (fixed proxy seed 1; `--colocate` for that layout) and reads back what it left. */
export async function runScenario(name: string, layout: 'separate' | 'colocated' = 'separate'): Promise<ScenarioRun> {
  const out = mkdtempSync(join(tmpdir(), `chaos-${name}-`));
  const { code, stdout, stderr } = await runCli(['chaos', '--scenario', name, '--seed', '1', '--out', out, ...(layout === 'colocated' ? ['--colocate'] : [])]);
  const report = join(out, 'chaos.json');
  if (!existsSync(report)) throw new Error(`dptrain chaos wrote no chaos.json (exit ${code}): ${stderr.slice(-800)}`);
  const row = (JSON.parse(readFileSync(report, 'utf8')) as { rows: ChaosRow[] }).rows[0];
  const params = join(out, name, 'params.safetensors');
  const reference = join(out, 'reference', 'params.safetensors');
  const bitIdentical = existsSync(params) && existsSync(reference) && readFileSync(params).equals(readFileSync(reference));
  const path = join(out, name, 'summary.json');
  const summary = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { faults?: { kind: string }[]; backupLeases?: number; workers?: ScenarioRun['workers'] })
    : {};
  return {
    code,
    row,
    out,
    stdout,
    bitIdentical,
    faults: summary.faults?.map((f) => f.kind) ?? [],
    backupLeases: summary.backupLeases ?? 0,
    workers: summary.workers ?? [],
  };
}

/** Why namespace scenarios cannot run here (they need root, `ip` and `nft`), or undefined. */
export function partitionSkipReason(): string | undefined {
  return netnsUnsupported() ?? natUnsupported();
}
