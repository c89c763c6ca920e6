/**
 * Real sockets that misbehave, on loopback, for fault tests:
 * - `silentListener`: accepts every connection and never answers (a hung Cassandra, Consul or Jolokia);
 * - `delayingProxy`: forwards to a real server, holding back each answer for a while (a slow one).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

function listen(server: Server, host: string, sockets: Set<Socket>): Promise<Listener> {
  let accepted = 0;
  server.on('connection', (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      resolve({
        host,
        port: address.port,
        accepted: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A TCP listener on `host` (loopback) that accepts connections, reads what it is sent and never answers. */
export function silentListener(host = '127.0.0.1'): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => socket.resume());
  return listen(server, host, sockets);
}

/** Forwards every connection to `target`, delaying each chunk of the answer by `delayMs`. */
export function delayingProxy(target: { host: string; port: number }, delayMs: number, host = '127.0.0.1') {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      setTimeout(() => {
        client.write(chunk);
        upstream.resume();
      }, delayMs);
    });
    upstream.on('end', () => setTimeout(() => client.end(), delayMs));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  return listen(server, host, sockets);
}
