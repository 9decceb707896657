// lib/confirm.svelte — asks the user to confirm a destructive action through the one ConfirmDialog.
export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel: string;
  /** Shows the confirm button in the danger colour (deleting things). */
  danger?: boolean;
}

interface ConfirmRequest extends ConfirmOptions {
  resolve: (confirmed: boolean) => void;
}

class ConfirmStore {
  request = $state.raw<ConfirmRequest | null>(null);

  /** Resolves to true when the user confirms, false when they cancel. */
  ask(options: ConfirmOptions): Promise<boolean> {
    this.request?.resolve(false);
    return new Promise((resolve) => {
      this.request = { ...options, resolve };
    });
  }

  answer(confirmed: boolean): void {
    const request = this.request;
    this.request = null;
    request?.resolve(confirmed);
  }
}

export const confirmation = new ConfirmStore();
