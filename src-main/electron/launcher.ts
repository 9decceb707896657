/** electron/launcher — starts the compute process as an Electron utilityProcess. */
import { utilityProcess } from 'electron';
import type { ComputeChannel, ComputeLauncher } from '../jobs/protocol';

export function utilityComputeLauncher(entry: string): ComputeLauncher {
  return (): ComputeChannel => {
    const child = utilityProcess.fork(entry, [], { serviceName: 'ESM Studio compute', stdio: 'inherit' });
    return {
      send: (message) => child.postMessage(message),
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code) => listener(code)),
      kill: () => void child.kill(),
    };
  };
}
