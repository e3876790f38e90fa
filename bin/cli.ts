import { Command, CommanderError, Option } from 'commander';
import { StreamrunError } from '../lib/errors/streamrun-error.ts';
import { clientNames, type ClientName } from '../lib/kafka/stream-client.ts';
import { defaultBrokers, processingModes, type Processing } from '../lib/runtime/options.ts';
import { start } from '../lib/runtime/runner.ts';
import { addDlqCommands } from './dlq/commands.ts';
import { portNumber, positiveInt, usageExitCode, usageLine } from './flags.ts';
import { addInitCommand } from './init/init.ts';
import { loggerFor, withLogFlags, type LogFlags } from './log-flags.ts';
import { loadTopology, loadTopologyModule } from './load-topology.ts';
import { streamrunPackage } from './package-info.ts';
import { addSecurityFlags, securityOptions, type SecurityFlags } from './security-flags.ts';
import { runTop } from './top/top.ts';

interface StartFlags extends LogFlags, SecurityFlags {
  export: string;
  brokers?: string;
  client?: ClientName;
  guarantee?: Processing;
  commitInterval?: number;
  sessionTimeout?: number;
  appId?: string;
  stateDir?: string;
  sourcePartitions?: number;
  startupTimeout?: number;
  port?: number;
  host?: string;
  advertisedUrl?: string;
}

/** Runs the CLI and returns its exit code; errors become one line on stderr, never a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('streamrun')
    .description('Kafka Streams-style stream processing for TypeScript')
    .version(streamrunPackage().version)
    .exitOverride()
    // Its errors become one line here (see the catch below), not its text and the whole usage.
    .configureOutput({ outputError: () => {} });

  const startCommand = addSecurityFlags(program.command('start'))
    .description('run a topology until SIGINT or SIGTERM')
    .argument('<file>', 'module whose default export (or --export) is a topology')
    .option('--export <name>', 'the export that holds the topology', 'default')
    .option('--brokers <list>', `bootstrap brokers, comma-separated (default: $KAFKA_BROKERS or ${defaultBrokers})`)
    .addOption(
      new Option('--client <name>', 'the Kafka client underneath (default: kafkats under exactly-once, else $STREAMRUN_CLIENT or kafkajs)').choices(clientNames),
    )
    .addOption(new Option('--guarantee <mode>', "processing guarantee (default: the module's options.processing, else at-least-once)").choices(processingModes))
    .option('--commit-interval <ms>', 'exactly-once: how long a transaction stays open at least (default: 100)', positiveInt)
    .option('--session-timeout <ms>', 'how long the group waits for a member that stopped heartbeating (default: 10000)', positiveInt)
    .option('--app-id <id>', "consumer group and topic prefix (default: the topology's id)")
    .option('--state-dir <dir>', 'where local state lives (default: .streamrun-state)')
    .option('--source-partitions <n>', 'partitions for source topics that must be created', positiveInt)
    .option('--startup-timeout <ms>', 'how long start-up retries what the broker answers transiently (default: 60000)', positiveInt)
    .option('--port <port>', 'serve /health, /stores and the module\'s routes on this port (default: the module\'s options.port, else off)', portNumber)
    .option('--host <host>', 'interface for --port (default: 127.0.0.1)')
    .option('--advertised-url <url>', "where the application's other instances reach this one's --port (default: its own URL)");
  withLogFlags(startCommand, 'info').action(async (file: string, flags: StartFlags) => {
    exitCode = await runStart(file, flags);
  });

  program
    .command('describe')
    .description('print the graph of a topology')
    .argument('<file>', 'module whose default export (or --export) is a topology')
    .option('--export <name>', 'the export that holds the topology', 'default')
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, flags: { export: string; json?: boolean }) => {
      const description = (await loadTopology(file, flags.export)).describe();
      process.stdout.write(flags.json ? `${JSON.stringify(description, null, 2)}\n` : `${String(description)}\n`);
    });

  program
    .command('top')
    .description('watch a running instance: throughput, latency, lag, dead letters, breakers (from its GET /dashboard/snapshot)')
    .argument('<url>', "the instance's HTTP server (its --port), e.g. http://127.0.0.1:8080")
    .option('--once', 'print one snapshot as plain text and exit')
    .option('--interval <ms>', 'how often to redraw', positiveInt, 1000)
    .action(async (url: string, flags: { once?: boolean; interval: number }) => {
      exitCode = await runTop(url, { once: flags.once === true, intervalMs: flags.interval });
    });

  addDlqCommands(program, (code) => {
    exitCode = code;
  });
  addInitCommand(program);

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      const line = usageLine(error);
      if (line === undefined) return error.exitCode;
      process.stderr.write(`streamrun: ${line}\n`);
      return usageExitCode;
    }
    process.stderr.write(`streamrun: ${oneLine(error)}\n`);
    if (process.env['STREAMRUN_DEBUG'] && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

async function runStart(file: string, flags: StartFlags): Promise<number> {
  const loaded = await loadTopologyModule(file, flags.export);
  const logger = loggerFor(flags);
  const given = {
    brokers: flags.brokers,
    client: flags.client,
    processing: flags.guarantee,
    commitIntervalMs: flags.commitInterval,
    sessionTimeoutMs: flags.sessionTimeout,
    appId: flags.appId,
    stateDir: flags.stateDir,
    sourcePartitions: flags.sourcePartitions,
    startupTimeoutMs: flags.startupTimeout,
    port: flags.port,
    host: flags.host,
    advertisedUrl: flags.advertisedUrl,
  };
  // The module's own defaults give way to what the command line says.
  const flagged = { ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)), ...securityOptions(flags) };
  let early: NodeJS.Signals | undefined;
  let drain: ((signal: NodeJS.Signals) => void) | undefined;
  let draining = false;
  // One listener for the whole run, never swapped for another: a signal libuv has caught but not
  // yet dispatched is dropped when its last listener goes, even if a new one comes in the same
  // tick, and the process would then run on, undrained, until killed.
  const onSignal = (signal: NodeJS.Signals) => {
    if (drain === undefined) {
      if (early !== undefined) {
        // A second one: the user will not wait for a start-up that may retry for a minute.
        process.stderr.write(`streamrun: second ${signal} during start-up: exiting\n`);
        process.exit(1);
      }
      // During start-up (even just after "running" is logged) the process must not die
      // undrained: the signal is noted, and acted on once the runner is there.
      early = signal;
      logger.info(`received ${signal} while starting: stopping as soon as the start-up is done`);
      return;
    }
    drain(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const running = await start(loaded.topology, { ...loaded.options, ...flagged, setup: loaded.setup, logger }).catch((error: unknown) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw error;
  });
  return new Promise<number>((resolve) => {
    const fail = (error: unknown) => {
      // A log pipeline reading JSON gets the reason the run ended as one more object.
      if (flags.logFormat === 'json') logger.error(`streamrun: ${oneLine(error)}`);
      else process.stderr.write(`streamrun: ${oneLine(error)}\n`);
      resolve(1);
    };
    drain = (signal) => {
      // A second signal means the user will not wait for the drain.
      if (draining) return fail(new Error(`second ${signal}: exiting before the drain finished`));
      draining = true;
      logger.info(`received ${signal}: draining in-flight work`);
      running.stop().then(() => resolve(0), fail);
    };
    running.finished.catch(fail);
    // A throw nothing caught (a timer in user code, say) ends the process, but only after the
    // runner left its group: the others take its partitions at once instead of after the session timeout.
    const onCrash = (error: unknown) => {
      logger.error(`uncaught error: ${oneLine(error)}; leaving the group, then exiting`);
      running.stop().then(() => fail(error), () => fail(error));
    };
    process.once('uncaughtException', onCrash);
    process.once('unhandledRejection', onCrash);
    if (early !== undefined) drain(early);
  });
}

function oneLine(error: unknown): string {
  const message = error instanceof StreamrunError || error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
