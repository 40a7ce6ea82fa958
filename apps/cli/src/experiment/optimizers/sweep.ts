import { sig } from '../common/table.js';

export const STUDIED = ['sgd', 'momentum', 'nesterov', 'adagrad', 'adadelta', 'adam', 'adamw', 'rmsprop'] as const;
export type Studied = (typeof STUDIED)[number];

/**
 * The centre of each optimizer's sweep for the MLP on Fashion-MNIST: the usual rates (the momentum
 * methods' α is smaller than plain SGD's because γ = 0.9 multiplies the step by about 1/(1 − γ)).
 */
export const CENTRE_LR: Readonly<Record<Studied, number>> = {
  sgd: 0.1,
  momentum: 0.01,
  nesterov: 0.01,
  adagrad: 0.03,
  adadelta: 1,
  adam: 0.001,
  adamw: 0.001,
  rmsprop: 0.001,
};

/** Methods that scale each coordinate's step by its gradient history (Wilson et al.'s "adaptive" group). */
export const ADAPTIVE: ReadonlySet<Studied> = new Set(['adagrad', 'adadelta', 'adam', 'adamw', 'rmsprop']);

export interface SweepRun {
  /** e.g. `adam-lr0.001`: the run folder's name. */
  readonly id: string;
  readonly optimizer: Studied;
  readonly lr: number;
}

/** Each optimizer at its centre rate times each factor, in the order given. */
export function expandSweep(optimizers: readonly Studied[], factors: readonly number[]): SweepRun[] {
  return optimizers.flatMap((optimizer) =>
    factors.map((f) => {
      const lr = sig(CENTRE_LR[optimizer] * f, 3);
      return { id: `${optimizer}-lr${lr}`, optimizer, lr };
    }),
  );
}
