// lib/errors — turns failures into the message a user reads, and runs back-end calls that toast on failure.
import { BackendError } from './transport';
import { toasts } from './toasts.svelte';

export function messageOf(error: unknown): string {
  if (error instanceof BackendError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === 'string' && error) return error;
  return 'Something went wrong. Please try again.';
}

/** Runs `work`; on failure shows the message as an error toast and resolves to undefined. */
export async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    toasts.error(messageOf(error));
    return undefined;
  }
}
