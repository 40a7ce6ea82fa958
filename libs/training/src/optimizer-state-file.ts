import type { OptimizerState } from '@dptrain/optim';
import type { Tensor } from '@dptrain/safetensors';

/**
 * An optimizer's state as checkpoint entries: each slot a tensor `optimizer/<slot>`, the rest
 * (name, size, step count, scalars, the slot names in their stable order) as one metadata value.
 */
export function optimizerEntries(state: OptimizerState): { readonly tensors: [string, Tensor][]; readonly metadata: string } {
  const { slots, ...rest } = state;
  return {
    tensors: Object.entries(slots).map(([slot, data]) => [`optimizer/${slot}`, { shape: [data.length], data }]),
    metadata: JSON.stringify({ ...rest, slots: Object.keys(slots) }),
  };
}

/** The state optimizerEntries wrote, its slots copied out of `tensor(name)`. */
export function optimizerFromEntries(metadata: string, tensor: (name: string) => Float32Array): OptimizerState {
  const { slots: names, ...rest } = JSON.parse(metadata) as Omit<OptimizerState, 'slots'> & { slots: string[] };
  return { ...rest, slots: Object.fromEntries(names.map((slot) => [slot, tensor(`optimizer/${slot}`)])) };
}
