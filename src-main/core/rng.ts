/**
 * core/rng — the one seeded pseudo-random generator of the project (CV folds and shuffles, random
 * forests, LoRA and head initialisation, map layouts, a training run's epoch shuffles and dropout
 * seeds, compression's start vectors), so that a seed gives the same numbers on every run and
 * every computer. Mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast and well distributed
 * enough for shuffling rows. Not cryptographic.
 *
 * Its state is one 32-bit integer (`getState` / `fromState`), so that a training checkpoint can
 * store it and a resumed run draws exactly the numbers an uninterrupted run would. Why not
 * Math.random or an npm package: Math.random cannot be seeded, and the generator is ten lines.
 */

/** A seeded generator: `next()` is uniform in [0, 1); the same seed always gives the same stream. */
export interface Rng {
  next(): number;
  /** A uniform integer in [0, n). */
  nextInt(n: number): number;
  /** Fisher–Yates shuffle in place; returns the same array for chaining. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T;
}

export class SeededRng implements Rng {
  private state: number;

  /** The seed is truncated to an integer and taken modulo 2^32, so seeds 1 and 1.7 give the same stream. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Random seed must be a finite number, got ${seed}.`);
    this.state = Math.trunc(seed) >>> 0;
  }

  /** A generator that continues from a state saved with `getState()`. */
  static fromState(state: number): SeededRng {
    if (!Number.isSafeInteger(state) || state < 0 || state > 0xffffffff) {
      throw new RangeError(`A random generator state is an unsigned 32-bit integer, got ${state}.`);
    }
    return new SeededRng(state);
  }

  getState(): number {
    return this.state;
  }

  /** Uniform in [0, 1). */
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

  /** Fisher–Yates shuffle in place; returns the array. */
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

export function createRng(seed: number): SeededRng {
  return new SeededRng(seed);
}
