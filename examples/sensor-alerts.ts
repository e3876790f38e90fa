import { serdes, topology } from 'streamrun';

interface Reading {
  sensorId: string;
  celsius: number;
  ts: number;
}

// Names from the environment, these by default: several copies can share a broker.
const env = (name: string, otherwise: string) => process.env[name] || otherwise;
export const topics = { input: env('INPUT_TOPIC', 'temperatures'), alerts: env('ALERTS_TOPIC', 'sensor-alerts'), fahrenheit: env('FAHRENHEIT_TOPIC', 'temperatures-f') };

const app = topology(env('APP_ID', 'sensor-alerts'));

const readings = app
  .stream(topics.input, { key: serdes.string, value: serdes.json<Reading>() })
  .filter((r) => Number.isFinite(r.celsius), { name: 'valid-readings' })
  .map((r) => ({ key: r.sensorId, value: { ...r, fahrenheit: r.celsius * 1.8 + 32 } }));

const { hot, cold } = readings.branch({
  hot: (r) => r.celsius >= 30,
  cold: (r) => r.celsius <= 0,
});

hot.mapValues((r) => `${r.sensorId} is hot: ${r.celsius} °C`).to(topics.alerts, { key: serdes.string, value: serdes.string });
cold.mapValues((r) => `${r.sensorId} is freezing: ${r.celsius} °C`).to(topics.alerts, { key: serdes.string, value: serdes.string });
readings.to(topics.fahrenheit, { key: serdes.string, value: serdes.json() });

export default app;
