/**
 * train/early-stopping — stops training when the validation metric has not improved for
 * `patience` epochs, and remembers the best epoch (whose parameters the "best" checkpoint holds).
 * Improvement means better than the best by more than `minDelta` (Keras / Lightning semantics).
 * A NaN metric never improves. The state is plain JSON, saved in checkpoints.
 */

export type MetricMode = 'min' | 'max';

export interface EarlyStoppingOptions {
  mode: MetricMode;
  /** Epochs without improvement before stopping; Infinity never stops (but still tracks the best). */
  patience: number;
  minDelta?: number;
}

export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number | null;
  /** Epochs since the last improvement. */
  staleEpochs: number;
}

export interface EarlyStoppingVerdict {
  improved: boolean;
  stop: boolean;
}

export class EarlyStopping {
  private current: EarlyStoppingState = { best: null, bestEpoch: null, staleEpochs: 0 };
  private readonly minDelta: number;

  constructor(private readonly options: EarlyStoppingOptions) {
    this.minDelta = options.minDelta ?? 0;
    if (!(options.patience >= 1)) throw new RangeError(`Early-stopping patience must be ≥ 1 epoch, got ${options.patience}.`);
    if (!(this.minDelta >= 0)) throw new RangeError(`Early-stopping min delta must be ≥ 0, got ${this.minDelta}.`);
  }

  /** Records the metric of `epoch`; says whether it is the new best and whether to stop now. */
  update(epoch: number, value: number): EarlyStoppingVerdict {
    const improved = this.isImprovement(value);
    if (improved) this.current = { best: value, bestEpoch: epoch, staleEpochs: 0 };
    else this.current = { ...this.current, staleEpochs: this.current.staleEpochs + 1 };
    return { improved, stop: this.current.staleEpochs >= this.options.patience };
  }

  state(): EarlyStoppingState {
    return { ...this.current };
  }

  load(state: EarlyStoppingState): void {
    this.current = { ...state };
  }

  private isImprovement(value: number): boolean {
    if (Number.isNaN(value)) return false;
    const best = this.current.best;
    if (best === null) return true;
    return this.options.mode === 'min' ? value < best - this.minDelta : value > best + this.minDelta;
  }
}
