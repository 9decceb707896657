/** services/events — the in-process bus the transports forward to their clients. */
import { EventEmitter } from 'node:events';
import type { ApiEvent } from '../api/contract';

export class Events {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  emit(event: ApiEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
