import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kafkaScript } from '../setup/kafka-broker.ts';
import { reservePorts } from '../setup/ports.ts';
import type { TestCertificates } from './certificates.ts';

const run = promisify(execFile);

export interface SaslUser {
  readonly name: string;
  readonly password: string;
}

export interface SecureBroker {
  /** The plain listener: the tests' own witness reads and writes through it. */
  readonly plain: string;
  /** The SASL_SSL listener, by the name its certificate holds. */
  readonly secure: string;
  stop(): Promise<void>;
}

/**
 * A broker of the file's own, started by docker/kafka/kafka.sh with its SASL_SSL listener, the
 * users stored at format time, client certificates checked when shown. A port can be taken between the check and the bind: then it
 * starts again on others.
 */
export async function startSecureBroker(certificates: TestCertificates, users: readonly SaslUser[]): Promise<SecureBroker> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamrun-test-kafka-sasl-'));
    const [port, controllerPort, securePort] = await reservePorts(3);
    const env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_DATA_DIR: dataDir,
      KAFKA_SASL_SSL_PORT: String(securePort),
      KAFKA_SSL_KEYSTORE: certificates.keystore,
      KAFKA_SSL_KEYSTORE_PASSWORD: certificates.keystorePassword,
      KAFKA_SASL_USERS: users.map((u) => `${u.name}:${u.password}`).join(','),
      // A client certificate is checked when one is shown, not demanded.
      KAFKA_SSL_TRUSTSTORE: certificates.truststore,
      KAFKA_SSL_TRUSTSTORE_PASSWORD: certificates.truststorePassword,
    };
    try {
      await run('bash', [kafkaScript, 'start'], { env });
    } catch (error) {
      lastError = error;
      await run('bash', [kafkaScript, 'stop'], { env }).catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
      continue;
    }
    return {
      plain: `127.0.0.1:${port}`,
      secure: `localhost:${securePort}`,
      async stop() {
        await run('bash', [kafkaScript, 'stop'], { env });
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  throw lastError;
}
