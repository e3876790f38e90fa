import { invalidOptions } from '../errors/streamrun-error.ts';

/** A PEM text (a string or its bytes), never a file path: the CLI reads files, the library does not. */
export type Pem = string | Buffer;

/**
 * TLS to the brokers. `ssl: true` trusts the system's CAs (Confluent Cloud, MSK, Aiven's public
 * endpoints); this object trusts the given CA instead and can present a client certificate.
 */
export interface SslOptions {
  /** The CA certificate(s) that signed the brokers' certificates, as PEM. Default: the system's CAs. */
  ca?: Pem | readonly Pem[];
  /** The client certificate for mutual TLS, as PEM; needs `key`. */
  cert?: Pem;
  /** The client certificate's private key, as PEM; needs `cert`. */
  key?: Pem;
  /** Decrypts `key` when it is encrypted. */
  passphrase?: string;
  /** False accepts any certificate, unchecked: for a test cluster only. Default true. */
  rejectUnauthorized?: boolean;
}

export const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof saslMechanisms)[number];

/** The mechanism a name means, in either case (Kafka's own docs spell them in capitals); undefined if none. */
export function parseSaslMechanism(name: unknown): SaslMechanism | undefined {
  if (typeof name !== 'string') return undefined;
  return saslMechanisms.find((m) => m === name.toLowerCase());
}

/** SASL authentication; with `ssl`, a SASL_SSL listener (PLAIN without TLS sends the password in clear). */
export interface SaslOptions {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** What both clients get, checked; `ssl: {}` is TLS with the system's CAs. */
export interface KafkaSecurity {
  readonly ssl: TlsSettings | undefined;
  readonly sasl: Readonly<SaslOptions> | undefined;
}

/** SslOptions as Node's tls.connect takes them (a mutable CA list), for both clients. */
export type TlsSettings = Readonly<Omit<SslOptions, 'ca'> & { ca?: Pem | Pem[] }>;

export const noSecurity: KafkaSecurity = { ssl: undefined, sasl: undefined };

const sslFields: ReadonlySet<string> = new Set(['ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized']);
const saslFields: ReadonlySet<string> = new Set(['mechanism', 'username', 'password']);

/** Checks the `ssl` and `sasl` runner options; the values are the caller's, typed or not. */
export function resolveSecurity(ssl: unknown, sasl: unknown): KafkaSecurity {
  return { ssl: resolveSsl(ssl), sasl: resolveSasl(sasl) };
}

function resolveSsl(value: unknown): TlsSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (!isRecord(value)) throw invalidOptions(`ssl: expected true or { ca, cert, key, passphrase, rejectUnauthorized }, got ${describe(value)}`);
  unknownFields('ssl', value, sslFields);
  const { ca, cert, key, passphrase, rejectUnauthorized } = value;
  const resolved: { -readonly [K in keyof TlsSettings]: TlsSettings[K] } = {};
  if (ca !== undefined) resolved.ca = Array.isArray(ca) ? ca.map((c, i) => pem(`ssl.ca[${i}]`, c)) : pem('ssl.ca', ca);
  if (cert !== undefined) resolved.cert = pem('ssl.cert', cert);
  if (key !== undefined) resolved.key = pem('ssl.key', key);
  if ((cert === undefined) !== (key === undefined)) throw invalidOptions('ssl: a client certificate needs both cert and key');
  if (passphrase !== undefined) {
    if (typeof passphrase !== 'string') throw invalidOptions(`ssl.passphrase: expected a string, got ${describe(passphrase)}`);
    resolved.passphrase = passphrase;
  }
  if (rejectUnauthorized !== undefined) {
    if (typeof rejectUnauthorized !== 'boolean') throw invalidOptions(`ssl.rejectUnauthorized: expected true or false, got ${describe(rejectUnauthorized)}`);
    resolved.rejectUnauthorized = rejectUnauthorized;
  }
  return resolved;
}

function resolveSasl(value: unknown): SaslOptions | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw invalidOptions(`sasl: expected { mechanism, username, password }, got ${describe(value)}`);
  unknownFields('sasl', value, saslFields);
  const { mechanism, username, password } = value;
  const parsed = parseSaslMechanism(mechanism);
  if (parsed === undefined) throw invalidOptions(`sasl.mechanism: expected ${saslMechanisms.join(', ')}, got ${describe(mechanism)}`);
  if (typeof username !== 'string' || username === '') throw invalidOptions(`sasl.username: expected a non-empty string, got ${describe(username)}`);
  if (typeof password !== 'string' || password === '') throw invalidOptions('sasl.password: expected a non-empty string');
  return { mechanism: parsed, username, password };
}

/** Catches a file path given where PEM text belongs, the usual slip. */
function pem(name: string, value: unknown): Pem {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string') throw invalidOptions(`${name}: expected PEM text (a string or Buffer), got ${describe(value)}`);
  if (!value.includes('-----BEGIN ')) {
    throw invalidOptions(`${name}: expected PEM text starting with "-----BEGIN", got "${value.slice(0, 60)}"; to use a file, pass readFileSync(path) (the CLI reads --ssl-* files itself)`);
  }
  return value;
}

function unknownFields(name: string, value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const field of Object.keys(value)) {
    if (!known.has(field)) throw invalidOptions(`${name}.${field}: unknown option (known: ${[...known].join(', ')})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}
