import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDockerfile } from './dockerfile.ts';

// No Docker engine on the CI machine: Compose never starts these. Checked instead: every name a
// service uses for another exists, and the ports each side uses agree.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dockerDir = join(root, 'docker');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync(join(dockerDir, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const { services } = compose;
const service = (name: string): Service => {
  const found = services[name];
  if (found === undefined) throw new Error(`no service ${name}`);
  return found;
};
const env = (name: string) => Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, String(v)]));
const published = (name: string) => (service(name).ports ?? []).map((p) => p.split(':').map(Number) as [number, number]);
const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));

/** `PLAINTEXT://localhost:9092,INTERNAL://kafka:19092` as listener name → host and port. */
function listeners(value: string): Map<string, { host: string; port: number }> {
  return new Map(
    value.split(',').map((entry) => {
      const match = /^(\w+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
      if (match === null) throw new Error(`not a listener: ${entry}`);
      return [match[1]!, { host: match[2]!, port: Number(match[3]) }];
    }),
  );
}
const kafka = env('kafka');
const bound = listeners(kafka['KAFKA_LISTENERS']!);
const advertised = listeners(kafka['KAFKA_ADVERTISED_LISTENERS']!);

describe('docker-compose.yml', () => {
  it('has Kafka, PostgreSQL, Mosquitto, the app and the monitoring', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'app', 'grafana', 'kafka', 'mosquitto', 'postgres', 'prometheus']);
  });

  it('depends only on services it has; waits for health only where a healthcheck says so', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const other of dependsOn(s)) expect(Object.keys(services), `${name} depends on ${other}`).toContain(other);
      if (Array.isArray(s.depends_on) || s.depends_on === undefined) continue;
      for (const [other, { condition }] of Object.entries(s.depends_on)) {
        if (condition === 'service_healthy') expect(service(other).healthcheck, `${name} waits for ${other}'s health`).toBeDefined();
      }
    }
    expect(dependsOn(service('app')).sort()).toEqual(['kafka', 'mosquitto', 'postgres']);
  });

  it('advertises Kafka by service name to the other containers and as localhost to the host', () => {
    for (const [name, { port }] of advertised) {
      expect(bound.get(name)?.port, `listener ${name}`).toBe(port);
      expect(kafka['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP']).toContain(`${name}:`);
    }
    const hosts = [...advertised.values()].map((l) => l.host).sort();
    expect(hosts).toEqual(['kafka', 'localhost']);
    const forHost = [...advertised.values()].find((l) => l.host === 'localhost')!;
    expect(published('kafka')).toContainEqual([forHost.port, forHost.port]);
    // The controller listener is for the broker itself, never advertised.
    expect(advertised.has(kafka['KAFKA_CONTROLLER_LISTENER_NAMES']!)).toBe(false);
  });

  it('points the app at the other services by name, on the ports they listen on', () => {
    const app = env('app');
    // The names the runner and the event pipeline read (lib/runtime/options.ts, topologies/events*).
    const read = ['lib/runtime/options.ts', 'topologies/events.ts', 'topologies/events/database.ts'].map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
    for (const name of Object.keys(app)) expect(read, `the app reads ${name}`).toContain(`process.env['${name}']`);

    const [brokerHost, brokerPort] = app['KAFKA_BROKERS']!.split(':');
    const internal = [...advertised.values()].find((l) => l.host === brokerHost);
    expect(brokerHost).toBe('kafka');
    expect(internal?.port).toBe(Number(brokerPort));

    const database = new URL(app['DATABASE_URL']!);
    expect(database.hostname).toBe('postgres');
    expect(published('postgres').map(([, inside]) => inside)).toContain(Number(database.port));
    expect(env('postgres')['POSTGRES_DB']).toBe(database.pathname.slice(1));

    const mqtt = new URL(app['MQTT_URL']!);
    expect(mqtt.hostname).toBe('mosquitto');
    const mosquittoConf = readFileSync(join(dockerDir, 'mosquitto/mosquitto.conf'), 'utf8');
    expect(mosquittoConf).toMatch(new RegExp(`^listener ${mqtt.port}$`, 'm'));
    expect(mosquittoConf).toMatch(/^allow_anonymous true$/m);
    expect(service('mosquitto').volumes).toContain('./mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro');
  });

  it('builds the app from the Dockerfile and serves on the port it publishes, for every interface', () => {
    const app = service('app');
    expect(app.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync(join(resolve(dockerDir, app.build!.context), app.build!.dockerfile))).toBe(true);
    const command = app.command as string[];
    const runtime = parseDockerfile(join(root, 'Dockerfile')).at(-1)!;
    // The same command as the image's default: the compose file only names it.
    expect(command).toEqual(runtime.instructions.find((i) => i.keyword === 'CMD')?.args);
    const port = Number(command[command.indexOf('--port') + 1]);
    expect(published('app')).toContainEqual([port, port]);
    expect(command[command.indexOf('--host') + 1]).toBe('0.0.0.0');
    const stateDir = command[command.indexOf('--state-dir') + 1];
    expect(app.volumes).toContain(`app-state:${stateDir}`);
    expect(Object.keys(compose.volumes ?? {})).toContain('app-state');
  });
});
