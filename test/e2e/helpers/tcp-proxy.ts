import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port it listens on (127.0.0.1), the same after close() and open(). */
  readonly port: number;
  /** Stops listening and cuts every connection: the target is unreachable through it. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  open(): Promise<void>;
}

/** Joins a client's connection to the target's; by default the bytes pass as they are. */
export type Splice = (client: Socket, upstream: Socket, proxyPort: number) => void;

const pipeBoth: Splice = (client, upstream) => void client.pipe(upstream).pipe(client);

/** A TCP proxy to `port` on 127.0.0.1 that a test can cut and restore, to make a server unreachable. */
export async function tcpProxy(targetPort: number, splice: Splice = pipeBoth): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        splice(client, upstream, port);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server?.close(() => resolve());
      }),
  };
}
