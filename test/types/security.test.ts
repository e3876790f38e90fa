/*
 * Type tests for the ssl and sasl runner options: `npx tsc --noEmit` checks them (each
 * @ts-expect-error must be an error). Nothing connects: the options are only built.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { RunnerOptions, SaslMechanism, SaslOptions, SslOptions } from '../../lib/index.ts';

describe('ssl and sasl options', () => {
  it('take true or PEM text and bytes, and the three mechanisms', () => {
    const options: RunnerOptions[] = [
      { ssl: true },
      { ssl: { ca: '-----BEGIN CERTIFICATE-----', cert: Buffer.from(''), key: Buffer.from(''), passphrase: 'p', rejectUnauthorized: false } },
      { ssl: { ca: ['-----BEGIN CERTIFICATE-----', Buffer.from('')] }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } },
    ];
    expectTypeOf(options).toEqualTypeOf<RunnerOptions[]>();
    expectTypeOf<SaslMechanism>().toEqualTypeOf<'plain' | 'scram-sha-256' | 'scram-sha-512'>();
    expectTypeOf<SaslOptions['password']>().toEqualTypeOf<string>();
    expectTypeOf<SslOptions['rejectUnauthorized']>().toEqualTypeOf<boolean | undefined>();
  });

  it('refuse what the clients cannot be given', () => {
    // @ts-expect-error: GSSAPI (Kerberos) is not one of the mechanisms.
    const kerberos: SaslOptions = { mechanism: 'gssapi', username: 'u', password: 'p' };
    // @ts-expect-error: a password is needed.
    const noPassword: SaslOptions = { mechanism: 'plain', username: 'u' };
    // @ts-expect-error: a CA is PEM text or bytes, not a number.
    const ca: SslOptions = { ca: 42 };
    expectTypeOf([kerberos, noPassword, ca]).not.toBeAny();
  });
});
