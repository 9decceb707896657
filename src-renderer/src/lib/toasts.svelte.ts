// lib/toasts.svelte — the list of short messages shown in the corner (errors, connection notes).
export type ToastKind = 'error' | 'info' | 'success';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

const HIDE_AFTER_MS = 8000;

class ToastStore {
  items = $state<Toast[]>([]);
  #nextId = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  push(kind: ToastKind, message: string, hideAfterMs = HIDE_AFTER_MS): void {
    // The same message twice in a row is shown once, with its timer restarted.
    const same = this.items.find((toast) => toast.kind === kind && toast.message === message);
    const id = same?.id ?? this.#nextId++;
    // At most three at once: a pile of messages would cover the page.
    if (!same) this.items = [...this.items, { id, kind, message }].slice(-3);
    clearTimeout(this.#timers.get(id));
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), hideAfterMs),
    );
  }

  error(message: string): void {
    this.push('error', message);
  }

  info(message: string): void {
    this.push('info', message);
  }

  dismiss(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.items = this.items.filter((toast) => toast.id !== id);
  }
}

export const toasts = new ToastStore();
