import { InvalidArgumentError, Option, type Command } from 'commander';
import type { StreamClient } from '../../lib/kafka/client.ts';
import { resolveSecurity } from '../../lib/kafka/security.ts';
import { clientNames, createStreamClient, type ClientName } from '../../lib/kafka/stream-client.ts';
import { defaultBrokers, parseBrokers, resolveClient } from '../../lib/runtime/options.ts';
import { positiveInt } from '../flags.ts';
import { loggerFor, withLogFlags, type LogFlags } from '../log-flags.ts';
import { parseCondition, type Condition } from './dead-letters.ts';
import { inspect } from './inspect.ts';
import { processOutput } from './output.ts';
import { replay } from './replay.ts';
import { addSecurityFlags, securityOptions, type SecurityFlags } from '../security-flags.ts';

interface CommonFlags extends LogFlags, SecurityFlags {
  brokers?: string;
  client?: ClientName;
}

interface InspectFlags extends CommonFlags {
  node?: string;
  errorClass?: string;
  limit: number;
  json?: boolean;
}

interface ReplayFlags extends CommonFlags {
  to?: string;
  where: Condition[];
  replayId: string;
  dryRun?: boolean;
}

/** Adds `streamrun dlq inspect|replay`; each sets the exit code through `exit`. */
export function addDlqCommands(program: Command, exit: (code: number) => void): void {
  const dlq = program.command('dlq').description('inspect and replay dead-letter topics');

  common(
    dlq
      .command('inspect')
      .description('print the dead letters of a topic, from its beginning to its current end')
      .argument('<topic>', 'the dead-letter topic, e.g. <appId>-dlq')
      .option('--node <name>', 'only dead letters of this node')
      .option('--error-class <name>', 'only dead letters of this error class, e.g. RangeError')
      .option('--limit <n>', 'print at most this many', positiveInt, 100)
      .option('--json', 'one JSON object per line (the summary goes to stderr)'),
  ).action(async (topic: string, flags: InspectFlags) => {
    const conditions: Condition[] = [
      ...(flags.node === undefined ? [] : [{ field: 'node' as const, value: flags.node }]),
      ...(flags.errorClass === undefined ? [] : [{ field: 'error-class' as const, value: flags.errorClass }]),
    ];
    const columns = process.stdout.isTTY ? process.stdout.columns : Number(process.env['COLUMNS']) || 160;
    exit(await withClient(flags, (client) => inspect(client, { topic, conditions, limit: flags.limit, json: flags.json === true, columns }, processOutput())));
  });

  common(
    dlq
      .command('replay')
      .description('send dead letters back to the topic they came from (or --to), each once per replay id')
      .argument('<topic>', 'the dead-letter topic, e.g. <appId>-dlq')
      .option('--to <topic>', 'send them all here, partitioned by key (default: each to its original topic and partition)')
      .option('--where <condition>', 'only node=<name> or error-class=<name>; repeat to require several', condition, [])
      .option('--replay-id <id>', 'names the progress: the same id never replays a dead letter twice', replayId, 'default')
      .option('--dry-run', 'print what would be replayed; send and commit nothing'),
  ).action(async (topic: string, flags: ReplayFlags) => {
    const options = { topic, to: flags.to, conditions: flags.where, replayId: flags.replayId, dryRun: flags.dryRun === true, logger: loggerFor(flags) };
    exit(await withClient(flags, (client) => replay(client, options, processOutput())));
  });
}

function common(command: Command): Command {
  const withKafka = addSecurityFlags(command)
    .option('--brokers <list>', `bootstrap brokers, comma-separated (default: $KAFKA_BROKERS or ${defaultBrokers})`)
    .addOption(new Option('--client <name>', 'the Kafka client underneath (default: $STREAMRUN_CLIENT or kafkajs)').choices(clientNames));
  return withLogFlags(withKafka, 'warn');
}

/** Connects (failing fast with one line when no broker answers), runs `use`, disconnects. */
async function withClient<T>(flags: CommonFlags, use: (client: StreamClient) => Promise<T>): Promise<T> {
  const brokers = parseBrokers(flags.brokers ?? process.env['KAFKA_BROKERS'] ?? defaultBrokers);
  const { ssl, sasl } = securityOptions(flags);
  const security = resolveSecurity(ssl, sasl);
  const client = createStreamClient(resolveClient(flags.client), { brokers, security, clientId: 'streamrun-dlq', logger: loggerFor(flags) });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

function condition(value: string, previous: Condition[]): Condition[] {
  const parsed = parseCondition(value);
  if (parsed === undefined) throw new InvalidArgumentError('expected node=<name> or error-class=<name>');
  return [...previous, parsed];
}

function replayId(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value;
}
