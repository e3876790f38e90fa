import type { Socket } from 'node:net';
import { tcpProxy, type TcpProxy } from './tcp-proxy.ts';

/** Metadata and FindCoordinator: the answers that tell a client which host and port to connect to. */
const addressAnswers = new Set([3, 10]);

/**
 * A proxy to a Kafka broker on 127.0.0.1 that clients cannot go around: a broker tells a client
 * its advertised address, so the proxy writes its own port into those answers. Cutting it makes
 * Kafka unreachable for the clients bootstrapped through it, while other clients (the test's,
 * other tests') go on using the broker.
 */
export function kafkaProxy(broker: string): Promise<TcpProxy> {
  const [host, port] = broker.split(':') as [string, string];
  const advertised = Buffer.from(host);
  return tcpProxy(Number(port), (client, upstream, proxyPort) => {
    // Whole frames are written, not piped: an end or reset on one side ends the other.
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    /** What each request on this connection asked, by correlation id. */
    const asked = new Map<number, number>();
    frames(client, (frame) => {
      // size(4) api_key(2) api_version(2) correlation_id(4)
      asked.set(frame.readInt32BE(8), frame.readInt16BE(4));
      upstream.write(frame);
    });
    frames(upstream, (frame) => {
      // size(4) correlation_id(4)
      const correlation = frame.readInt32BE(4);
      if (addressAnswers.has(asked.get(correlation) ?? -1)) rewritePort(frame, advertised, Number(port), proxyPort);
      asked.delete(correlation);
      client.write(frame);
    });
  });
}

/** Calls `each` with every whole frame (its 4-byte size first) that arrives on `socket`. */
function frames(socket: Socket, each: (frame: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = 4 + pending.readInt32BE(0);
      each(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  });
}

/** The host's bytes followed by the port (an int32): in both the classic and the compact encodings of a broker's address. */
function rewritePort(frame: Buffer, host: Buffer, from: number, to: number): void {
  const needle = Buffer.alloc(host.length + 4);
  host.copy(needle);
  needle.writeInt32BE(from, host.length);
  for (let at = frame.indexOf(needle); at !== -1; at = frame.indexOf(needle, at + needle.length)) {
    frame.writeInt32BE(to, at + host.length);
  }
}
