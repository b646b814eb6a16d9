/**
 * A loopback TCP load balancer in front of several Kafka gateways, as an NLB is in a deployment:
 * each new connection goes to the next upstream in turn, skipping one that refuses connections
 * (a killed gateway), so a client that lost its connection reconnects to another gateway.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running balancer. */
export interface TcpBalancer {
  readonly port: number;
  /** Upstream ports, in turn; replace to add or remove gateways. */
  upstreams: number[];
  /** Connections made to each upstream port so far. */
  readonly connections: Map<number, number>;
  stop(): Promise<void>;
}

/** Starts a balancer on a free loopback port. */
export async function startTcpBalancer(upstreams: number[] = []): Promise<TcpBalancer> {
  const sockets = new Set<Socket>();
  let next = 0;
  const balancer: TcpBalancer = {
    port: 0,
    upstreams,
    connections: new Map(),
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    const attempt = (tries: number) => {
      if (tries >= balancer.upstreams.length) {
        client.destroy();
        return;
      }
      const port = balancer.upstreams[next++ % balancer.upstreams.length]!;
      const upstream = connect({ host: '127.0.0.1', port });
      let connected = false;
      upstream.once('error', () => {
        upstream.destroy();
        // Refused: that gateway is gone, try the next; cut off later: so is the client's connection.
        if (connected) client.destroy();
        else attempt(tries + 1);
      });
      upstream.once('connect', () => {
        connected = true;
        track(upstream);
        balancer.connections.set(port, (balancer.connections.get(port) ?? 0) + 1);
        client.pipe(upstream);
        upstream.pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The balancer has no TCP address');
  return Object.assign(balancer, { port: address.port });
}
