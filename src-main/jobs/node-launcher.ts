/** jobs/node-launcher — starts the compute process as a Node child process (serve mode, CLI). */
import { fork } from 'node:child_process';
import type { ComputeChannel, ComputeLauncher } from './protocol';

export function nodeComputeLauncher(entry: string): ComputeLauncher {
  return (): ComputeChannel => {
    const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    return {
      send: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code) => listener(code)),
      kill: () => child.kill('SIGKILL'),
    };
  };
}
