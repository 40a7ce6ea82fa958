/**
 * Steady-state throughput from per-step wall times, estimated as bench:train times the reference
 * trainer: the steps are cut into `rounds` consecutive rounds of equal length (the remainder
 * dropped), each round's rate is its samples over its time, and the median round rate is
 * returned, so a garbage collection or a neighbour's burst in one round does not move it.
 * NaN when there are fewer steps than rounds.
 * @default rounds 5
 */
export function steadyRate(stepMs: readonly number[], samplesPerStep: number, rounds = 5): number {
  const perRound = Math.floor(stepMs.length / rounds);
  if (perRound === 0) return Number.NaN;
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ms = 0;
    for (let i = r * perRound; i < (r + 1) * perRound; i++) ms += stepMs[i];
    rates.push((perRound * samplesPerStep * 1000) / ms);
  }
  rates.sort((a, b) => a - b);
  return rates.length % 2 === 1 ? rates[(rates.length - 1) / 2] : (rates[rates.length / 2 - 1] + rates[rates.length / 2]) / 2;
}
