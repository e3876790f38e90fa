import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../runtime/logger.ts';

/** Codes a client sends in place of a protocol version in its first packet. */
const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;
const cancelRequestCode = 80877102;
/** Postgres refuses startup packets above 10000 bytes; so do we, before buffering more. */
const maxStartupLength = 10_000;
const terminateType = 'X'.charCodeAt(0);
/** How long close() lets clients that are already leaving finish before it says goodbye. */
const leaveGraceMs = 50;
/** How long a client may take to close its side after the server said goodbye. */
const goodbyeTimeoutMs = 2_000;
/** A connection queued this long behind another means a pool with `max` above 1. */
const waitWarningMs = 5_000;

type ClientState = 'startup' | 'waiting' | 'active' | 'gone';

class Client {
  readonly id: number;
  readonly socket: Socket;
  state: ClientState = 'startup';
  received: Buffer = Buffer.alloc(0);
  /** The startup packet, kept from its arrival until the client's turn comes. */
  startup: Uint8Array | undefined;
  /** Settles once the messages taken so far have run; a turnover waits for it. */
  work: Promise<void> = Promise.resolve();
  draining = false;
  waitTimer: NodeJS.Timeout | undefined;

  constructor(id: number, socket: Socket) {
    this.id = id;
    this.socket = socket;
  }

  take(length: number): Buffer {
    const head = Buffer.from(this.received.subarray(0, length));
    this.received = this.received.subarray(length);
    return head;
  }
}

/**
 * A TCP server that feeds each protocol message to PGlite and streams the answer back.
 * One client at a time owns the backend; the others queue. Between owners the session is reset
 * (an open transaction rolled back, DISCARD ALL) so each connection starts as a new Postgres
 * session would: pg keeps its named prepared statements per connection and would otherwise
 * collide with the previous owner's.
 */
export class WireBridge {
  readonly #db: PGlite;
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #clients = new Set<Client>();
  readonly #queue: Client[] = [];
  #active: Client | undefined;
  /** The reset between two owners; close() waits for it before closing the database. */
  #turnover: Promise<void> = Promise.resolve();
  #closing = false;
  #nextId = 1;

  constructor(db: PGlite, logger: Logger) {
    this.#db = db;
    this.#logger = logger;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((done, fail) => {
      this.#server.once('error', fail);
      this.#server.listen(port, host, () => {
        this.#server.off('error', fail);
        this.#server.on('error', (error) => this.#logger.error('embedded postgres: server error', { error }));
        done();
      });
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const stopped = new Promise<void>((done) => this.#server.close(() => done()));
    // A pool's end() resolves before its Terminate message reaches us. pg reports an
    // ErrorResponse to an ending client as an 'error' event with no listener left (an uncaught
    // exception), so let such goodbyes arrive before saying ours.
    if (this.#clients.size > 0) {
      await new Promise((done) => setTimeout(done, leaveGraceMs));
      // Timers run before sockets are read: a late timer must still let the reads through.
      await new Promise((done) => setImmediate(done));
    }
    const active = this.#active;
    for (const client of this.#clients) {
      if (client !== active) this.#goodbye(client, '57P01', 'terminating connection due to administrator command');
    }
    if (active !== undefined) {
      // The statement in flight finishes and its answer goes out before the goodbye.
      await active.work;
      this.#goodbye(active, '57P01', 'terminating connection due to administrator command');
    }
    await stopped;
    await this.#turnover;
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const client = new Client(this.#nextId++, socket);
    this.#clients.add(client);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      client.received = client.received.length === 0 ? chunk : Buffer.concat([client.received, chunk]);
      this.#pump(client);
    });
    // The client closed its side: it is leaving and wants nothing more written to it.
    socket.on('end', () => {
      client.state = 'gone';
    });
    socket.on('error', (error) => this.#logger.debug('embedded postgres: client socket error', { client: client.id, error }));
    socket.on('close', () => this.#closed(client));
    this.#logger.debug('embedded postgres: client connected', { client: client.id, from: socket.remotePort });
  }

  #pump(client: Client): void {
    if (client.draining) return;
    client.work = this.#drain(client);
  }

  async #drain(client: Client): Promise<void> {
    client.draining = true;
    try {
      for (;;) {
        if (client.state === 'startup') {
          if (this.#closing || !this.#readStartup(client)) return;
          continue;
        }
        if (client.state !== 'active') return;
        if (client.startup !== undefined) {
          if (this.#closing) return;
          const startup = client.startup;
          client.startup = undefined;
          await this.#run(client, startup);
          continue;
        }
        const message = takeMessage(client);
        if (message === undefined) return;
        if (message[0] === terminateType) {
          client.state = 'gone';
          client.socket.end();
          return;
        }
        // While closing only a Terminate is still looked for; anything else would run after the goodbye.
        if (this.#closing) return;
        await this.#run(client, message);
        if (client.socket.writableNeedDrain) await drained(client.socket);
      }
    } finally {
      client.draining = false;
    }
  }

  /** Handles what a client may send before its startup packet; true when there is more to read. */
  #readStartup(client: Client): boolean {
    if (client.received.length < 8) return false;
    const length = client.received.readInt32BE(0);
    const code = client.received.readInt32BE(4);
    if (length < 8 || length > maxStartupLength) {
      this.#goodbye(client, '08P01', 'invalid startup packet length');
      return false;
    }
    if (client.received.length < length) return false;
    const packet = client.take(length);
    if (code === sslRequestCode || code === gssEncRequestCode) {
      // 'N': no encryption here; the client carries on in plain text or gives up.
      client.socket.write('N');
      return true;
    }
    if (code === cancelRequestCode) {
      // There is no second backend to signal; Postgres answers a cancel by closing too.
      client.socket.end();
      client.state = 'gone';
      return false;
    }
    client.startup = packet;
    client.state = 'waiting';
    this.#queue.push(client);
    if (this.#active !== undefined) {
      this.#logger.debug('embedded postgres: client waits for the connection in use', {
        client: client.id,
        active: this.#active.id,
      });
      client.waitTimer = setTimeout(() => {
        this.#logger.warn('embedded postgres: a connection has waited 5 s for another one to close; pools need max: 1', {
          client: client.id,
        });
      }, waitWarningMs).unref();
    }
    this.#handOver();
    return true;
  }

  #handOver(): void {
    if (this.#active !== undefined || this.#closing) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    clearTimeout(next.waitTimer);
    this.#active = next;
    next.state = 'active';
    this.#pump(next);
  }

  async #run(client: Client, message: Uint8Array): Promise<void> {
    try {
      await this.#db.runExclusive(() =>
        this.#db.execProtocolRawStream(message, {
          // PGlite reuses the buffer behind `bytes`: copy before it goes to the socket.
          onRawData: (bytes) => {
            if (client.socket.writable) client.socket.write(Buffer.from(bytes));
          },
        }),
      );
    } catch (error) {
      this.#logger.error('embedded postgres: a protocol message failed', { client: client.id, error });
      this.#goodbye(client, 'XX000', `embedded postgres: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #closed(client: Client): void {
    const wasActive = this.#active === client;
    client.state = 'gone';
    clearTimeout(client.waitTimer);
    this.#clients.delete(client);
    const queued = this.#queue.indexOf(client);
    if (queued !== -1) this.#queue.splice(queued, 1);
    this.#logger.debug('embedded postgres: client disconnected', { client: client.id });
    if (!wasActive) return;
    this.#turnover = this.#turnover.then(async () => {
      await client.work;
      if (!this.#closing) await this.#resetSession();
      this.#active = undefined;
      this.#handOver();
    });
  }

  /** Leaves the backend as a fresh connection would find it, whatever the last owner left behind. */
  async #resetSession(): Promise<void> {
    const discard = (message: Uint8Array) =>
      this.#db.runExclusive(() => this.#db.execProtocolRawStream(message, { onRawData: () => undefined }));
    try {
      // Ends an extended-protocol exchange cut off before its Sync.
      await discard(syncMessage);
      if (this.#db.isInTransaction()) await discard(simpleQuery('ROLLBACK'));
      await discard(simpleQuery('DISCARD ALL'));
    } catch (error) {
      this.#logger.error('embedded postgres: could not reset the session after a client left', { error });
    }
  }

  /** A FATAL ErrorResponse, then the socket closes, as Postgres ends a connection. */
  #goodbye(client: Client, sqlState: string, message: string): void {
    const { socket } = client;
    const leaving = client.state === 'gone';
    client.state = 'gone';
    if (!leaving) {
      if (socket.writable) socket.end(errorResponse('FATAL', sqlState, message));
      else socket.destroy();
    }
    setTimeout(() => socket.destroy(), goodbyeTimeoutMs).unref();
  }
}

/** The next whole typed message ('Q', 'P', 'B', …) a client sent, or undefined until it is in. */
function takeMessage(client: Client): Buffer | undefined {
  if (client.received.length < 5) return undefined;
  const length = 1 + client.received.readInt32BE(1);
  return client.received.length < length ? undefined : client.take(length);
}

function drained(socket: Socket): Promise<void> {
  return new Promise((done) => {
    const finish = () => {
      socket.off('drain', finish);
      socket.off('close', finish);
      done();
    };
    socket.on('drain', finish);
    socket.on('close', finish);
  });
}

const syncMessage = Uint8Array.from([0x53, 0, 0, 0, 4]);

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'latin1');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

function errorResponse(severity: string, sqlState: string, text: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${sqlState}\0M${text}\0\0`, 'utf8');
  const message = Buffer.alloc(5 + fields.length);
  message.write('E', 0, 'latin1');
  message.writeInt32BE(4 + fields.length, 1);
  fields.copy(message, 5);
  return message;
}
