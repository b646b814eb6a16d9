/** Binding a listener (the Kafka port, the health port) and learning the address it got. */
import type { Server } from 'node:net';
import { InvalidArgumentError } from '../sdk/src/index.ts';

/**
 * Starts `server` listening on `host:port` (port 0: a free one) and resolves with the address
 * bound; rejects with the listen error (EADDRINUSE, ...). `what` names the listener in errors.
 */
export function listen(
  server: Server,
  host: string,
  port: number,
  what: string,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.listen({ host, port }, () => {
      server.off('error', failed);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new InvalidArgumentError(`${what} did not get a TCP address on ${host}:${port}`));
        return;
      }
      resolve({ host: address.address, port: address.port });
    });
  });
}
