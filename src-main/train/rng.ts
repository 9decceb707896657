/**
 * train/rng — the seeded pseudo-random generator of a training run (epoch shuffles, the
 * validation split, per-step seeds for dropout) whose state is one 32-bit integer, so that a
 * checkpoint can store it and a resumed run draws exactly the numbers an uninterrupted run would.
 *
 * Why not learn/stats' createRng: it is the same algorithm (Mulberry32, so a seed gives the same
 * stream in both) but it hides its state in a closure, and a checkpoint has to save and restore
 * it. Why not Math.random or an npm package: Math.random cannot be seeded, and the generator is
 * ten lines. Not cryptographic.
 */

export class TrainingRng {
  private state: number;

  /** The seed is truncated to an integer and taken modulo 2^32, as in learn/stats. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Random seed must be a finite number, got ${seed}.`);
    this.state = Math.trunc(seed) >>> 0;
  }

  /** A generator that continues from a state saved with `getState()`. */
  static fromState(state: number): TrainingRng {
    if (!Number.isSafeInteger(state) || state < 0 || state > 0xffffffff) {
      throw new RangeError(`A random generator state is an unsigned 32-bit integer, got ${state}.`);
    }
    return new TrainingRng(state);
  }

  getState(): number {
    return this.state;
  }

  /** Uniform in [0, 1). Mulberry32 (Tommy Ettinger). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform unsigned 32-bit integer, e.g. the seed of one step's dropout masks. */
  nextUint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Fisher–Yates shuffle in place (same draws as learn/stats' shuffle); returns the array. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }
}
