// lib/connection.svelte — whether the back end answers (serve mode can be stopped while the page
// stays open): views show "disconnected" rather than states they can no longer know.
import { api } from './transport';

class ConnectionStore {
  /** False while the back end cannot be reached; true before the first answer too (no false alarm at start). */
  connected = $state(true);

  constructor() {
    api.onConnection((connected) => {
      this.connected = connected;
    });
  }
}

export const connection = new ConnectionStore();
