import { describe, expect, it } from 'vitest';
import { resolveSecurity } from '../../../lib/kafka/security.ts';
import { resolveRunnerOptions, type RunnerOptions } from '../../../lib/runtime/options.ts';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const key = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('resolveSecurity', () => {
  it('is plain TCP without ssl or sasl, and TLS with the system CAs for ssl: true', () => {
    expect(resolveSecurity(undefined, undefined)).toEqual({ ssl: undefined, sasl: undefined });
    expect(resolveSecurity(false, undefined)).toEqual({ ssl: undefined, sasl: undefined });
    expect(resolveSecurity(true, undefined)).toEqual({ ssl: {}, sasl: undefined });
  });

  it('keeps PEM text and bytes, a CA list, a client certificate and its passphrase as given', () => {
    const bytes = Buffer.from(pem);
    expect(resolveSecurity({ ca: [pem, bytes], cert: pem, key, passphrase: 'p', rejectUnauthorized: false }, undefined).ssl).toEqual({
      ca: [pem, bytes],
      cert: pem,
      key,
      passphrase: 'p',
      rejectUnauthorized: false,
    });
    expect(resolveSecurity({ ca: bytes }, undefined).ssl).toEqual({ ca: bytes });
  });

  it('takes the mechanism in either case, as Kafka spells it or as KafkaJS does', () => {
    const sasl = (mechanism: string) => resolveSecurity(undefined, { mechanism, username: 'u', password: 'p' }).sasl;
    expect(sasl('SCRAM-SHA-512')).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(sasl('scram-sha-256')).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: 'p' });
    expect(sasl('PLAIN')).toEqual({ mechanism: 'plain', username: 'u', password: 'p' });
  });

  it('rejects what it cannot use, naming the option', () => {
    const cases: [unknown, unknown, string][] = [
      ['yes', undefined, 'ssl: expected true or { ca, cert, key, passphrase, rejectUnauthorized }, got "yes"'],
      [{ cafile: 'x' }, undefined, 'ssl.cafile: unknown option (known: ca, cert, key, passphrase, rejectUnauthorized)'],
      [
        { ca: '/etc/ssl/ca.pem' },
        undefined,
        'ssl.ca: expected PEM text starting with "-----BEGIN", got "/etc/ssl/ca.pem"; to use a file, pass readFileSync(path) (the CLI reads --ssl-* files itself)',
      ],
      [{ ca: [pem, 42] }, undefined, 'ssl.ca[1]: expected PEM text (a string or Buffer), got number'],
      [{ cert: pem }, undefined, 'ssl: a client certificate needs both cert and key'],
      [{ key }, undefined, 'ssl: a client certificate needs both cert and key'],
      [{ passphrase: 1 }, undefined, 'ssl.passphrase: expected a string, got number'],
      [{ rejectUnauthorized: 'no' }, undefined, 'ssl.rejectUnauthorized: expected true or false, got "no"'],
      [undefined, 'plain', 'sasl: expected { mechanism, username, password }, got "plain"'],
      [undefined, { mechanism: 'gssapi', username: 'u', password: 'p' }, 'sasl.mechanism: expected plain, scram-sha-256, scram-sha-512, got "gssapi"'],
      [undefined, { mechanism: 'plain', username: '', password: 'p' }, 'sasl.username: expected a non-empty string, got ""'],
      [undefined, { mechanism: 'plain', username: 'u' }, 'sasl.password: expected a non-empty string'],
      [undefined, { mechanism: 'plain', username: 'u', password: 'p', user: 'x' }, 'sasl.user: unknown option (known: mechanism, username, password)'],
    ];
    for (const [ssl, sasl, message] of cases) {
      expect(() => resolveSecurity(ssl, sasl), message).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', message }));
    }
  });

  it('is checked with the other runner options, at start', () => {
    const options: RunnerOptions = { ssl: { ca: pem }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } };
    expect(resolveRunnerOptions(options, 'app').security).toEqual({ ssl: { ca: pem }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    expect(resolveRunnerOptions({}, 'app').security).toEqual({ ssl: undefined, sasl: undefined });
    expect(() => resolveRunnerOptions({ ssl: { cert: pem } }, 'app')).toThrow('ssl: a client certificate needs both cert and key');
  });
});
