/**
 * What users write, in each module system: a topology that upper-cases values and tags them
 * with the file that did it (so a test knows which file ran), and an app that starts it.
 * Topic names and the app id come from the environment: every test gets its own.
 */
const chain = (tag: string) =>
  `.stream(env('INPUT_TOPIC'), { key: serdes.string, value: serdes.string })
  .mapValues((value) => \`\${value.toUpperCase()} (${tag})\`)
  .to(env('OUTPUT_TOPIC'))`;
const envFn = `const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(\`\${name} is not set\`);
  return value;
};`;
const envFnTs = envFn.replace('(name) =>', '(name: string): string =>');

/** An ES module topology (.ts, .mts; .js/.mjs without the types). */
export const esmTopology = (tag: string, typed: boolean) => `import { serdes, topology } from 'streamrun';

${typed ? envFnTs : envFn}

export default topology(env('APP_ID'))
  ${chain(tag)};
`;

/**
 * A CommonJS topology, `require` and `module.exports`. Its `require('streamrun')` must be the
 * CLI's own module (an ES module namespace), not a CommonJS copy tsx's hooks compiled from it.
 */
export const cjsTopology = (tag: string) => `const { serdes, topology } = require('streamrun');

if (Object.prototype.toString.call(require('streamrun')) !== '[object Module]') throw new Error('a second copy of streamrun');

${envFn}

module.exports = topology(env('APP_ID'))
  ${chain(tag)};
`;

const stopOnSigterm = `process.once('SIGTERM', () => {
  runner.stop().then(() => process.exit(0), (error) => {
    console.error(error);
    process.exit(1);
  });
});`;

/** An ESM app that starts the topology itself (`start()`), for plain `node` or for tsc. */
export const esmApp = (tag: string, typed: boolean) => `import { serdes, start, topology${typed ? ', type Runner' : ''} } from 'streamrun';

${typed ? envFnTs : envFn}

const runner${typed ? ': Runner' : ''} = await start(
  topology(env('APP_ID'))
    ${chain(tag)},
);
${stopOnSigterm}
`;

export const cjsApp = (tag: string) => `const { serdes, start, topology } = require('streamrun');

${envFn}

start(topology(env('APP_ID'))
  ${chain(tag)}).then((runner) => {
  ${stopOnSigterm.replace(/\n/g, '\n  ')}
});
`;

/** Runs a topology in `streamrun/testing`'s driver and prints its outputs as JSON. */
const driverBody = `  const driver = new TopologyTestDriver(
    topology('driver').stream('in', { key: serdes.string, value: serdes.string }).mapValues((v) => v.toUpperCase()).to('out'),
  );
  await driver.input('in').pipeInput('k', 'hello', { timestamp: 1000 });
  console.log(JSON.stringify(driver.output('out').readOutputs().map((r) => [r.key, r.value, r.timestamp])));
  await driver.close();`;

export const esmDriver = `import { serdes, topology } from 'streamrun';
import { TopologyTestDriver } from 'streamrun/testing';

${driverBody.replace(/^ {2}/gm, '')}
`;

export const cjsDriver = `const { serdes, topology } = require('streamrun');
const { TopologyTestDriver } = require('streamrun/testing');

(async () => {
${driverBody}
})();
`;

/** tsc's settings for a Node project: nodenext, strict, and the library's .d.ts checked too. */
export const nodenextTsconfig = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: false,
      types: ['node'],
      outDir: 'dist',
      rootDir: 'src',
    },
    include: ['src'],
  },
  null,
  2,
)}\n`;
