/**
 * core/cancel — how long work stops when the user cancels: the one `CancelledError` (the compute
 * process, the training loop and downloads recognise it by class), the check between chunks of
 * work, and the yield that lets a cancel message through between synchronous chunks. Pure.
 */

export class CancelledError extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'CancelledError';
  }
}

/** Lets queued messages (such as a cancel) through between synchronous chunks of work. */
export const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}
