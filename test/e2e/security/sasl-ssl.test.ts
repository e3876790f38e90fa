import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serdes, start, StreamrunError, topology, type RunnerOptions, type SaslMechanism } from '../../../lib/index.ts';
import { useCleanup } from '../helpers/cleanup.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { createTopic, produce, readAllSettled, uniqueName, useBrokers } from '../helpers/kafka.ts';
import { collectingLogger } from '../helpers/logger.ts';
import { counter, keyedRecords } from '../helpers/topologies.ts';
import { makeCertificates, type TestCertificates } from './certificates.ts';
import { startSecureBroker, type SecureBroker } from './secure-broker.ts';

// The client is the project's (STREAMRUN_CLIENT): the file runs once on KafkaJS and once on kafkats.
const alice = { name: 'alice', password: 'alice-secret' };
const bob = { name: 'bob', password: 'bob-secret' };
const inputs = [
  { key: 'k1', value: 'over tls' },
  { key: 'k2', value: 'and sasl' },
  { key: 'k1', value: 'ça marche' },
];
const expected = [
  ['k1', 'OVER TLS'],
  ['k1', 'ÇA MARCHE'],
  ['k2', 'AND SASL'],
];
const refused = 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512';

/** For a start that fails at its connect: its topics are never made. */
const neverRuns = (appId: string) =>
  topology(uniqueName(appId)).stream(uniqueName('in'), { key: serdes.string, value: serdes.string }).to(uniqueName('out'));

describe('a broker with a SASL_SSL listener', () => {
  const cleanup = useCleanup('all');
  let certificates: TestCertificates;
  let broker: SecureBroker;

  beforeAll(async () => {
    certificates = await makeCertificates(await cleanup.tempDir('streamrun-certs-'));
    broker = await startSecureBroker(certificates, [alice, bob]);
    cleanup.defer(() => broker.stop());
    // The test's own reads and writes go through the plain listener: a witness beside the runner.
    useBrokers(broker.plain);
  });
  afterAll(() => useBrokers(undefined));

  /** Fresh topics with the inputs in them, and the upper-cased records the runner wrote. */
  async function uppercaseTopics() {
    const [input, output, appId] = [uniqueName('sasl-input'), uniqueName('sasl-output'), uniqueName('sasl-uppercase')];
    await createTopic(input, 2);
    await produce(input, inputs);
    // By key, and a key's records in offset order (one partition each; the sort is stable).
    const outputs = async () =>
      (await readAllSettled(output, { group: appId, inputs: [input] })).map((r) => [r.key, r.value]).sort(([a], [b]) => String(a).localeCompare(String(b)));
    return { input, output, appId, outputs };
  }

  async function stateDir(): Promise<string> {
    return cleanup.tempDir('streamrun-sasl-state-');
  }

  /** The exit code and everything on stderr, to assert a failure is one line and nothing else. */
  async function exitAndStderr(run: CliRun): Promise<[number | string, string]> {
    const code = await run.exited;
    return [code, run.stderr()];
  }

  it('runs examples/uppercase.ts over SCRAM-SHA-512 and TLS through `streamrun start`, every record once', async () => {
    const topics = await uppercaseTopics();
    const run = runCli(
      ['start', 'examples/uppercase.ts', '--brokers', broker.secure, '--app-id', topics.appId, '--state-dir', await stateDir(),
        '--ssl-ca', certificates.ca, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', alice.name],
      { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output, KAFKA_SASL_PASSWORD: alice.password },
    );
    try {
      expect(await topics.outputs()).toEqual(expected);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });

  it.each<[SaslMechanism, typeof alice]>([
    ['scram-sha-256', bob],
    ['plain', alice],
  ])('runs a topology with start() over %s and TLS', async (mechanism, user) => {
    const topics = await uppercaseTopics();
    const runner = await start(
      topology(topics.appId)
        .stream(topics.input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => v.toUpperCase())
        .to(topics.output),
      {
        brokers: broker.secure,
        ssl: { ca: await readFile(certificates.ca) },
        sasl: { mechanism, username: user.name, password: user.password },
        stateDir: await stateDir(),
        logger: collectingLogger(),
      },
    );
    try {
      expect(await topics.outputs()).toEqual(expected);
    } finally {
      await runner.stop();
    }
  });

  // Changelog writes, the restore consumer and, exactly-once, the transactional producers all
  // connect over SASL_SSL: the second run restores its counts from the changelog alone.
  it.each(['at-least-once', 'exactly-once'] as const)('a count restores its store from the changelog over SASL_SSL, %s', async (processing) => {
    const [input, output, appId] = [uniqueName('sasl-count-input'), uniqueName('sasl-counts'), uniqueName('sasl-count')];
    await createTopic(input, 2);
    const options = async (): Promise<RunnerOptions> => ({
      brokers: broker.secure,
      ssl: { ca: await readFile(certificates.ca, 'utf8') },
      sasl: { mechanism: 'scram-sha-512', username: alice.name, password: alice.password },
      processing,
      stateDir: await stateDir(),
      logger: collectingLogger(),
    });
    const counts = async () => {
      const byKey = new Map<string, string[]>();
      for (const r of await readAllSettled(output, { group: appId, inputs: [input] })) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r.value!]);
      return Object.fromEntries([...byKey].sort(([a], [b]) => a.localeCompare(b)));
    };
    const first = await start(counter(appId, input, output), await options());
    try {
      await produce(input, keyedRecords(6, 3));
      expect(await counts()).toEqual({ 'key-0': ['1', '2'], 'key-1': ['1', '2'], 'key-2': ['1', '2'] });
    } finally {
      await first.stop();
    }
    const second = await start(counter(appId, input, output), await options());
    try {
      await produce(input, keyedRecords(3, 3, 6));
      expect(await counts()).toEqual({ 'key-0': ['1', '2', '3'], 'key-1': ['1', '2', '3'], 'key-2': ['1', '2', '3'] });
    } finally {
      await second.stop();
    }
  });

  it('dlq inspect connects with the KAFKA_SSL_* and KAFKA_SASL_* variables alone, the password from a file', async () => {
    const topic = uniqueName('sasl-dlq');
    await createTopic(topic, 1);
    const dir = await cleanup.tempDir('streamrun-sasl-secret-');
    await writeFile(join(dir, 'password'), `${bob.password}\n`);
    const run = runCli(['dlq', 'inspect', topic, '--brokers', broker.secure], {
      KAFKA_SSL_CA: certificates.ca,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: bob.name,
      KAFKA_SASL_PASSWORD_FILE: join(dir, 'password'),
    });
    expect([await run.exited, run.stdout(), run.stderr()]).toEqual([0, `${topic} is empty: no dead letters\n`, '']);
  });

  it('presents a client certificate from --ssl-cert and --ssl-key (mutual TLS)', async () => {
    const topic = uniqueName('sasl-mtls');
    await createTopic(topic, 1);
    const run = runCli(
      ['dlq', 'inspect', topic, '--brokers', broker.secure, '--ssl-ca', certificates.ca, '--ssl-cert', certificates.client.cert,
        '--ssl-key', certificates.client.key, '--sasl-mechanism', 'scram-sha-256', '--sasl-username', alice.name],
      { KAFKA_SASL_PASSWORD: alice.password },
    );
    expect([await run.exited, run.stdout(), run.stderr()]).toEqual([0, `${topic} is empty: no dead letters\n`, '']);
  });

  it('a client certificate the broker does not trust is one line naming the broker, and exit 1', async () => {
    const run = runCli(
      ['start', 'examples/uppercase.ts', '--brokers', broker.secure, '--state-dir', await stateDir(), '--ssl-ca', certificates.ca,
        '--ssl-cert', certificates.stranger.cert, '--ssl-key', certificates.stranger.key, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', alice.name],
      { KAFKA_SASL_PASSWORD: alice.password },
    );
    expect(await exitAndStderr(run)).toEqual([
      1,
      `streamrun: TLS failed at Kafka ${broker.secure}: the broker refused the handshake (alert certificate unknown); does the broker trust the CA that signed ssl.cert (--ssl-cert)?\n`,
    ]);
  });

  it('a wrong password is one line naming the broker, and exit 1', async () => {
    const run = runCli(
      ['start', 'examples/uppercase.ts', '--brokers', broker.secure, '--state-dir', await stateDir(),
        '--ssl-ca', certificates.ca, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', alice.name],
      { KAFKA_SASL_PASSWORD: 'not-the-password' },
    );
    expect(await exitAndStderr(run)).toEqual([1, `streamrun: authentication failed at Kafka ${broker.secure} (SASL SCRAM-SHA-512 as "alice"): ${refused}\n`]);
  });

  it('a wrong password rejects start() with AUTHENTICATION_FAILED', async () => {
    const failed = await start(neverRuns('sasl-refused'), {
      brokers: broker.secure,
      ssl: { ca: await readFile(certificates.ca, 'utf8') },
      sasl: { mechanism: 'scram-sha-512', username: alice.name, password: 'not-the-password' },
      stateDir: await stateDir(),
      logger: collectingLogger(),
    }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(StreamrunError);
    expect([(failed as StreamrunError).code, (failed as StreamrunError).message]).toEqual([
      'AUTHENTICATION_FAILED',
      `authentication failed at Kafka ${broker.secure} (SASL SCRAM-SHA-512 as "alice"): ${refused}`,
    ]);
  });

  it('a CA that did not sign the broker certificate is one line naming the broker, and exit 1', async () => {
    const run = runCli(
      ['start', 'examples/uppercase.ts', '--brokers', broker.secure, '--state-dir', await stateDir(),
        '--ssl-ca', certificates.otherCa, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', alice.name],
      { KAFKA_SASL_PASSWORD: alice.password },
    );
    expect(await exitAndStderr(run)).toEqual([
      1,
      `streamrun: TLS failed at Kafka ${broker.secure}: its certificate is not trusted (self-signed certificate in certificate chain); is ssl.ca (--ssl-ca) the CA that signed it?\n`,
    ]);
  });

  it("ssl: true trusts only the system's CAs, so start() rejects the test CA's broker with TLS_FAILED", async () => {
    const failed = await start(neverRuns('sasl-system-ca'), {
      brokers: broker.secure,
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: alice.name, password: alice.password },
      stateDir: await stateDir(),
      logger: collectingLogger(),
    }).catch((error: unknown) => error);
    expect([(failed as StreamrunError).code, (failed as StreamrunError).message]).toEqual([
      'TLS_FAILED',
      `TLS failed at Kafka ${broker.secure}: its certificate is not trusted (self-signed certificate in certificate chain); give the CA that signed it (ssl.ca, --ssl-ca)`,
    ]);
  });

  it('a plain client at the SASL_SSL listener is one line naming the broker and what to give', async () => {
    const run = runCli(['start', 'examples/uppercase.ts', '--brokers', broker.secure, '--state-dir', await stateDir()]);
    const [code, stderr] = await exitAndStderr(run);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^streamrun: cannot reach Kafka at ${broker.secure}: [^\\n]+ \\(a TLS or SASL listener hangs up on a plain client: give ssl and sasl, or --ssl and --sasl-\\*\\)\\n$`),
    );
  });

  it('a CA file that is not there is one line naming it', async () => {
    const missing = join(await stateDir(), 'missing-ca.pem');
    const run = runCli(['start', 'examples/uppercase.ts', '--brokers', broker.secure, '--ssl-ca', missing]);
    expect(await exitAndStderr(run)).toEqual([1, `streamrun: --ssl-ca: cannot read ${missing}: no such file\n`]);
  });
});
