import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { consoleLogger, start } from 'streamrun';
import uppercase, { topics } from './uppercase.ts';

// The demo: runs examples/uppercase.ts in this process, feeds it sample lines through Kafka and
// prints what comes out, then stops cleanly.
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const lines = [
  'streams are just tables in motion',
  'every partition keeps its order',
  'outputs are acknowledged before offsets are committed',
  'stop me with SIGTERM and I drain first',
  'hello from streamrun',
];
const run = Date.now().toString(36);

const runner = await start(uppercase, { brokers, logger: consoleLogger('warn') });
const kafka = new Kafka({ clientId: 'streamrun-demo', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const readerGroup = `streamrun-demo-${run}`;
const reader = kafka.consumer({ groupId: readerGroup, maxWaitTimeInMs: 100 });
const writer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });

let seen = 0;
const allSeen = new Promise<void>((resolve) => {
  void reader.connect().then(async () => {
    await reader.subscribe({ topic: topics.output, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        if (!key.startsWith(`${run}-`)) return;
        console.log(`  output ${key.padEnd(14)} ${message.value?.toString()}`);
        if (++seen === lines.length) resolve();
      },
    });
  });
});

await writer.connect();
for (const [i, line] of lines.entries()) {
  console.log(`  input  ${`${run}-${i}`.padEnd(14)} ${line}`);
  await writer.send({ topic: topics.input, messages: [{ key: `${run}-${i}`, value: line }] });
}
const timeout = setTimeout(() => {
  console.error(`demo: only ${seen} of ${lines.length} lines came back within 60 s`);
  process.exit(1);
}, 60_000);
await allSeen;
clearTimeout(timeout);
await Promise.all([reader.disconnect(), writer.disconnect(), runner.stop()]);
// The reader's group served this run only.
const admin = kafka.admin();
await admin.connect();
await admin.deleteGroups([readerGroup]).finally(() => admin.disconnect());
console.log(`\ndemo: ${lines.length} lines in, ${seen} upper-cased lines out. Next:`);
console.log('  npx streamrun describe examples/uppercase.ts');
console.log('  npx streamrun start examples/uppercase.ts      # runs until Ctrl-C');
console.log('  npm run kafka:stop                             # when you are done');
