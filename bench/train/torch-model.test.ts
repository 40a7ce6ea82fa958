// The PyTorch baseline must build the same architectures as @dptrain/model. PyTorch stores a
// Linear weight as [out, in] and a Conv2d weight as [out, in, kh, kw]; ours are [in, out] and
// [kh, kw, in, out], so the shapes are compared after that permutation.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createModel } from '@dptrain/model';
import { describe, expect, it } from 'vitest';
import { TORCH_PYTHON } from './plan.js';

const hasTorch = spawnSync(TORCH_PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.log(`torch-model.test.ts skipped: ${TORCH_PYTHON} cannot import torch and numpy (apt-get install python3-torch)`);

function torchShapes(model: string): number[][] {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const code = `import json, sys, torch; sys.path.insert(0, ${JSON.stringify(dir)}); import torch_train
print(json.dumps([list(p.shape) for p in torch_train.build(torch, ${JSON.stringify(model)}).parameters()]))`;
  const run = spawnSync(TORCH_PYTHON, ['-c', code], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`torch_train.build failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as number[][];
}

/** Our layout of a PyTorch parameter shape. */
function ours(shape: number[]): number[] {
  if (shape.length === 2) return [shape[1], shape[0]];
  if (shape.length === 4) return [shape[2], shape[3], shape[1], shape[0]];
  return shape;
}

describe.skipIf(!hasTorch).each(['mlp', 'cnn'] as const)('PyTorch %s', (name) => {
  it('has the tensors of @dptrain/model in the same order', () => {
    expect(torchShapes(name).map(ours)).toEqual(createModel({ name }).paramSpecs.map((s) => s.shape));
  });
});
