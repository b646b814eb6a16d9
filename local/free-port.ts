/** Asks the OS for free TCP ports on a host. */
import { createServer, type Server } from 'node:net';

function listenOnFreePort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => resolve(server));
  });
}

/**
 * `count` distinct ports that were free on `host` a moment ago (all are held open together, so
 * they differ). Another process may take one before the caller binds it; callers that cannot bind
 * port 0 themselves (DynamoDB Local) accept that small race.
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnFreePort(host));
    return servers.map((server) => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error(`No TCP port assigned on ${host}`);
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
