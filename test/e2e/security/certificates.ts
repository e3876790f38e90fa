import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files for a TLS listener and its clients, made with openssl and keytool: nothing checked in, nothing reused. */
export interface TestCertificates {
  /** The CA that signed the broker's certificate (PEM). */
  readonly ca: string;
  /** Another CA, which signed nothing the broker holds: a client trusting it must refuse the broker. */
  readonly otherCa: string;
  /** The broker's key and certificate (for localhost and 127.0.0.1) with the CA's, as PKCS12. */
  readonly keystore: string;
  readonly keystorePassword: string;
  /** The CA's certificate as PKCS12, for the broker to check client certificates against. */
  readonly truststore: string;
  readonly truststorePassword: string;
  /** A client certificate and key signed by the CA (PEM). */
  readonly client: { readonly cert: string; readonly key: string };
  /** One signed by the other CA, which the broker does not trust. */
  readonly stranger: { readonly cert: string; readonly key: string };
}

export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args);
  const days = ['-days', '2'];
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), ...days, '-subj', '/CN=streamrun test CA');
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('other-ca.key'), '-out', file('other-ca.pem'), ...days, '-subj', '/CN=another CA');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('broker.key'), '-out', file('broker.csr'), '-subj', '/CN=localhost');
  // Clients check the name they dialled against the certificate's alternative names.
  await writeFile(file('broker.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl('x509', '-req', '-in', file('broker.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('broker.pem'), ...days, '-extfile', file('broker.ext'));
  const keystorePassword = 'keystore-secret';
  await openssl('pkcs12', '-export', '-in', file('broker.pem'), '-inkey', file('broker.key'), '-certfile', file('ca.pem'),
    '-name', 'broker', '-out', file('broker.p12'), '-passout', `pass:${keystorePassword}`);
  const client = async (name: string, ca: string) => {
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
    await openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-out', file(`${name}.pem`), ...days);
    return { cert: file(`${name}.pem`), key: file(`${name}.key`) };
  };
  const truststorePassword = 'truststore-secret';
  // Java's own tool, so the trust store is one the broker reads as Java makes them.
  await run('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', file('ca.pem'), '-keystore', file('trust.p12'), '-storetype', 'PKCS12', '-storepass', truststorePassword]);
  return {
    ca: file('ca.pem'),
    otherCa: file('other-ca.pem'),
    keystore: file('broker.p12'),
    keystorePassword,
    truststore: file('trust.p12'),
    truststorePassword,
    client: await client('client', 'ca'),
    stranger: await client('stranger', 'other-ca'),
  };
}
