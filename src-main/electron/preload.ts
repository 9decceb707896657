/**
 * electron/preload — the only bridge between the sandboxed renderer and the main process:
 * `window.esmStudio.call(method, input)` and `onEvent`. It forwards; the main side validates.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const API_CHANNEL = 'esm-studio:api';
const EVENT_CHANNEL = 'esm-studio:event';

contextBridge.exposeInMainWorld('esmStudio', {
  call: (method: string, input: unknown): Promise<unknown> => ipcRenderer.invoke(API_CHANNEL, { method, input }),
  onEvent: (listener: (event: unknown) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => ipcRenderer.off(EVENT_CHANNEL, forward);
  },
});
