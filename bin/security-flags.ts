import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { invalidOptions } from '../lib/errors/streamrun-error.ts';
import { parseSaslMechanism, saslMechanisms, type SaslOptions, type SslOptions } from '../lib/kafka/security.ts';

/**
 * TLS and SASL flags, shared by `start` and the dlq commands. Each flag has an environment twin,
 * its name in capitals after `KAFKA_` (`--ssl-ca` → `KAFKA_SSL_CA`); a flag wins over its twin.
 * Secrets never come from a flag value, which `ps` shows to every user of the host: the SASL
 * password comes from `KAFKA_SASL_PASSWORD` or a file, the key's passphrase from `KAFKA_SSL_KEY_PASSWORD`.
 */
export interface SecurityFlags {
  ssl?: boolean;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
  saslMechanism?: string;
  saslUsername?: string;
  saslPasswordFile?: string;
}

/** What the flags and environment ask for, as runner options; empty when they ask for nothing. */
export interface SecurityOptions {
  ssl?: true | SslOptions;
  sasl?: SaslOptions;
}

export function addSecurityFlags(command: Command): Command {
  return command
    .option('--ssl', "connect with TLS, trusting the system's CAs unless --ssl-ca is given ($KAFKA_SSL=true)")
    .option('--ssl-ca <file>', "PEM file of the CA that signed the brokers' certificates; implies --ssl ($KAFKA_SSL_CA)")
    .option('--ssl-cert <file>', 'PEM file of a client certificate, for mutual TLS; implies --ssl ($KAFKA_SSL_CERT)')
    .option('--ssl-key <file>', "PEM file of the client certificate's key; its passphrase in $KAFKA_SSL_KEY_PASSWORD ($KAFKA_SSL_KEY)")
    .option('--sasl-mechanism <name>', `SASL authentication: ${saslMechanisms.join(', ')} ($KAFKA_SASL_MECHANISM)`)
    .option('--sasl-username <name>', 'the SASL user ($KAFKA_SASL_USERNAME)')
    .option('--sasl-password-file <file>', "file holding the SASL user's password (else $KAFKA_SASL_PASSWORD_FILE, else $KAFKA_SASL_PASSWORD)");
}

/** A value and where it came from, so an error names the flag or the variable the user set. */
interface Given {
  readonly value: string;
  readonly source: string;
}

/** Reads the files the flags and environment name; one line, naming the file, when one cannot be read. */
export function securityOptions(flags: SecurityFlags, env: NodeJS.ProcessEnv = process.env): SecurityOptions {
  const pick = (flag: string, value: string | undefined, variable: string): Given | undefined =>
    value !== undefined ? { value, source: flag } : env[variable] ? { value: env[variable], source: variable } : undefined;
  const ca = pick('--ssl-ca', flags.sslCa, 'KAFKA_SSL_CA');
  const cert = pick('--ssl-cert', flags.sslCert, 'KAFKA_SSL_CERT');
  const key = pick('--ssl-key', flags.sslKey, 'KAFKA_SSL_KEY');
  const passphrase = env['KAFKA_SSL_KEY_PASSWORD'];
  const wanted = flags.ssl === true || sslVariable(env['KAFKA_SSL']) || ca !== undefined || cert !== undefined || key !== undefined;

  const options: SecurityOptions = {};
  if (wanted) {
    const ssl: SslOptions = {};
    if (ca !== undefined) ssl.ca = pemFile(ca);
    if (cert !== undefined) ssl.cert = pemFile(cert);
    if (key !== undefined) ssl.key = pemFile(key);
    if (passphrase) ssl.passphrase = passphrase;
    options.ssl = Object.keys(ssl).length === 0 ? true : ssl;
  }
  const sasl = saslOptions(
    pick('--sasl-mechanism', flags.saslMechanism, 'KAFKA_SASL_MECHANISM'),
    pick('--sasl-username', flags.saslUsername, 'KAFKA_SASL_USERNAME'),
    password(pick('--sasl-password-file', flags.saslPasswordFile, 'KAFKA_SASL_PASSWORD_FILE'), env['KAFKA_SASL_PASSWORD']),
  );
  if (sasl !== undefined) options.sasl = sasl;
  return options;
}

function saslOptions(mechanism: Given | undefined, username: Given | undefined, password: string | undefined): SaslOptions | undefined {
  if (mechanism === undefined && username === undefined && password === undefined) return undefined;
  const missing = [
    ...(mechanism === undefined ? ['--sasl-mechanism (or KAFKA_SASL_MECHANISM)'] : []),
    ...(username === undefined ? ['--sasl-username (or KAFKA_SASL_USERNAME)'] : []),
    ...(password === undefined ? ['a password (KAFKA_SASL_PASSWORD, or a file in --sasl-password-file or KAFKA_SASL_PASSWORD_FILE)'] : []),
  ];
  if (missing.length > 0) throw invalidOptions(`SASL needs ${missing.join(' and ')}`);
  const parsed = parseSaslMechanism(mechanism!.value);
  if (parsed === undefined) throw invalidOptions(`${mechanism!.source}: expected ${saslMechanisms.join(', ')}, got "${mechanism!.value}"`);
  return { mechanism: parsed, username: username!.value, password: password! };
}

/** A password file ends with the newline editors and `echo` add; it is not part of the password. */
function password(file: Given | undefined, variable: string | undefined): string | undefined {
  if (file === undefined) return variable || undefined;
  const text = read(file).replace(/\r?\n$/, '');
  if (text === '') throw invalidOptions(`${file.source}: ${file.value} is empty`);
  return text;
}

function pemFile(file: Given): string {
  const text = read(file);
  if (!text.includes('-----BEGIN ')) throw invalidOptions(`${file.source}: ${file.value} is not PEM (no "-----BEGIN" line)`);
  return text;
}

function read({ value: path, source }: Given): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidOptions(`${source}: cannot read ${path}: ${fileProblem(error)}`);
  }
}

function fileProblem(error: unknown): string {
  const { code } = error as { code?: unknown };
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}

function sslVariable(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw invalidOptions(`KAFKA_SSL: expected true or false, got "${value}"`);
}
